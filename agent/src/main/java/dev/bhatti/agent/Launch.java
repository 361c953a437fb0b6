package dev.bhatti.agent;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a request (argv, env, cwd, user) into a process ready to start, or says why it cannot run.
 * Every command gets its own session and process group (setsid) so that a kill or a timeout reaches
 * all its descendants, and drops to the user with setpriv (no shell in between).
 */
final class Launch {

    static final int EXIT_NOT_FOUND = 127;
    static final int EXIT_NOT_EXECUTABLE = 126;

    sealed interface Outcome {}

    /**
     * Ready to start: {@code argv} already drops to {@code user} (setpriv) when needed; the new session
     * is made by whoever spawns it (setsid for pipes, posix_spawn for terminals).
     */
    record Ready(String program, List<String> argv, Map<String, String> env, String cwd, GuestUser user, AgentConfig config,
                 Direct direct) implements Outcome {
        /** A process builder that gives the command its own session and process group. */
        ProcessBuilder builder() {
            var cmd = new ArrayList<String>(List.of(config.setsid(), "-w", "--", program));
            cmd.addAll(argv.subList(1, argv.size()));
            var pb = new ProcessBuilder(cmd);
            pb.environment().clear();
            pb.environment().putAll(env);
            pb.directory(Path.of(cwd).toFile());
            return pb;
        }
    }

    /**
     * The same command without the setpriv hop: the program found in the command's PATH and its argv,
     * for a spawner that switches to {@code dropTo} itself (null: run as the agent's own user).
     * Every exec of a helper costs tens of milliseconds where CPUs are emulated.
     */
    record Direct(String program, List<String> argv, GuestUser dropTo) {}

    /** The request itself is wrong (unknown user, missing directory): an error, not an exit code. */
    record Invalid(String message) implements Outcome {}

    /** The program cannot be run: answered like a shell would, with 127 or 126 and a message. */
    record NotRunnable(int exitCode, String message) implements Outcome {}

    private Launch() {}

    static Outcome prepare(AgentConfig config, List<String> argv, Map<String, String> requestEnv, String requestCwd,
                           String requestUser) {
        String malformed = malformed(argv, requestEnv, requestCwd);
        if (malformed != null) return new Invalid(malformed);
        Map<String, String> image = config.imageDefaults();
        // an image's USER may be user:group; the user's own groups apply
        String userName = requestUser.isEmpty() ? image.getOrDefault("USER", "").split(":", 2)[0] : requestUser;
        var found = GuestUser.resolve(config.passwd(), userName);
        if (found.isEmpty()) return new Invalid("no such user in the guest: " + userName);
        GuestUser user = found.get();
        Map<String, String> env = environment(user, config.sandboxEnv(), requestEnv);
        String cwd = workingDirectory(config, user, requestCwd.isEmpty() ? image.getOrDefault("WORKDIR", "") : requestCwd);
        if (!Files.isDirectory(Path.of(cwd))) return new Invalid("working directory does not exist: " + cwd);
        String program = argv.getFirst();
        Path resolved;
        switch (CommandPath.resolve(program, env.getOrDefault("PATH", ""), Path.of(cwd))) {
            case CommandPath.Missing m -> { return new NotRunnable(EXIT_NOT_FOUND, program + ": command not found"); }
            case CommandPath.NotExecutable n -> { return new NotRunnable(EXIT_NOT_EXECUTABLE, program + ": permission denied"); }
            case CommandPath.Found f -> resolved = f.path();
        }
        var cmd = new ArrayList<String>();
        boolean drop = config.runningAsRoot() && user.uid() != 0;
        var direct = new Direct(resolved.toString(), List.copyOf(argv), drop ? user : null);
        if (drop) {
            cmd.add(config.setpriv());
            cmd.add("--reuid=" + user.uid());
            cmd.add("--regid=" + user.gid());
            cmd.add(user.name().isEmpty() ? "--clear-groups" : "--init-groups");
            cmd.add("--");
            cmd.addAll(argv); // setpriv finds the program in the command's own PATH
            return new Ready(config.setpriv(), cmd, env, cwd, user, config, direct);
        }
        // Spawned directly: the program is the one found in the command's PATH, not the agent's.
        cmd.addAll(argv);
        return new Ready(resolved.toString(), cmd, env, cwd, user, config, direct);
    }

    /**
     * What no process can be given: a NUL inside an argument, a variable or the directory (C strings end
     * there, and the JDK refuses them with an exception), or a variable name that is empty or holds '='.
     * Found by fuzzing: these reached the spawn and failed as "internal" errors or were cut silently.
     */
    static String malformed(List<String> argv, Map<String, String> env, String cwd) {
        for (String arg : argv) {
            if (arg.indexOf('\0') >= 0) return "arguments must not contain NUL bytes";
        }
        for (var e : env.entrySet()) {
            String name = e.getKey();
            if (name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0) {
                return "invalid environment variable name '" + name.replace("\0", "\\0") + "'";
            }
            if (e.getValue().indexOf('\0') >= 0) return "environment variable " + name + " must not contain NUL bytes";
        }
        if (cwd.indexOf('\0') >= 0) return "working directory must not contain NUL bytes";
        return null;
    }

    /** Defaults, then the sandbox's environment, then the request's: later ones win. */
    private static Map<String, String> environment(GuestUser user, Map<String, String> sandbox, Map<String, String> requested) {
        var env = new LinkedHashMap<String, String>();
        env.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        env.put("HOME", user.home());
        if (!user.name().isEmpty()) {
            env.put("USER", user.name());
            env.put("LOGNAME", user.name());
        }
        env.put("SHELL", user.shell());
        env.put("LANG", "C.UTF-8");
        env.putAll(sandbox);
        env.putAll(requested);
        return env;
    }

    private static String workingDirectory(AgentConfig config, GuestUser user, String requested) {
        if (!requested.isEmpty()) return requested;
        if (Files.isDirectory(config.workspace())) return config.workspace().toString();
        return Files.isDirectory(Path.of(user.home())) ? user.home() : "/";
    }
}

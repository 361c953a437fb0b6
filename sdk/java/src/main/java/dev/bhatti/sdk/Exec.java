package dev.bhatti.sdk;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A command to run in a sandbox and how: {@code Exec.of("make", "test").cwd("/workspace").timeout(Duration.ofMinutes(5))}.
 * With {@link #onStdout} or {@link #onStderr} it is streamed: output reaches the consumer as it happens
 * (on the calling thread). The command is an argv, not a shell line: {@code Exec.of("sh", "-c", "a | b")} for a pipe.
 */
public final class Exec {
    /** The daemon's longest command timeout. */
    static final Duration MAX_TIMEOUT = Duration.ofDays(1);

    private final List<String> cmd;
    private final Map<String, String> env = new LinkedHashMap<>();
    private String cwd;
    private String user;
    private String stdin;
    private Duration timeout;
    private Consumer<String> onStdout;
    private Consumer<String> onStderr;

    private Exec(List<String> cmd) { this.cmd = cmd; }

    /** The command and its arguments: at least one string, none null or holding NUL. */
    public static Exec of(String... cmd) {
        Validate.notNull("command", cmd);
        return of(java.util.Arrays.asList(cmd));
    }

    public static Exec of(List<String> cmd) {
        Validate.notNull("command", cmd);
        if (cmd.isEmpty()) throw new IllegalArgumentException("command must have at least a program to run");
        for (int i = 0; i < cmd.size(); i++) {
            String arg = cmd.get(i);
            if (arg == null) throw new IllegalArgumentException("command argument " + i + " is null");
            if (arg.indexOf('\0') >= 0) throw new IllegalArgumentException("command argument " + i + " holds a NUL byte");
        }
        if (cmd.getFirst().isEmpty()) throw new IllegalArgumentException("command's program must not be empty");
        return new Exec(List.copyOf(cmd));
    }

    public Exec env(String key, String value) {
        checkEnv(key, value);
        env.put(key, value);
        return this;
    }

    public Exec env(Map<String, String> vars) {
        Validate.notNull("env", vars).forEach(this::env);
        return this;
    }

    /** The working directory (absolute; default the user's home). */
    public Exec cwd(String cwd) {
        this.cwd = Validate.guestPath("cwd", cwd);
        return this;
    }

    /** The guest user to run as: a name or a uid (default the sandbox's default user). */
    public Exec user(String user) {
        Validate.name("user", user);
        if (!user.matches("[a-z_][a-z0-9_-]{0,31}|[0-9]{1,10}")) throw new IllegalArgumentException("user must be a user name or a uid, got " + Validate.printable(user));
        this.user = user;
        return this;
    }

    /** Text given to the command's standard input (then closed). */
    public Exec stdin(String stdin) {
        this.stdin = Validate.notNull("stdin", stdin);
        return this;
    }

    /**
     * How long the command may run before it is killed (whole seconds, rounded up; at most a day). The
     * daemon's default is 5 minutes. The HTTP wait is this plus the client's request timeout.
     */
    public Exec timeout(Duration timeout) {
        this.timeout = Validate.positive("timeout", timeout, MAX_TIMEOUT);
        return this;
    }

    /** Streams the command's standard output to {@code consumer} as it comes (it is then not in the result). */
    public Exec onStdout(Consumer<String> consumer) {
        this.onStdout = Validate.notNull("onStdout", consumer);
        return this;
    }

    /** Streams the command's standard error to {@code consumer} as it comes (it is then not in the result). */
    public Exec onStderr(Consumer<String> consumer) {
        this.onStderr = Validate.notNull("onStderr", consumer);
        return this;
    }

    public List<String> command() { return cmd; }

    boolean streamed() { return onStdout != null || onStderr != null; }

    Consumer<String> stdoutConsumer() { return onStdout; }

    Consumer<String> stderrConsumer() { return onStderr; }

    /** The timeout in whole seconds as sent, or null for the daemon's default. */
    Integer timeoutSeconds() {
        if (timeout == null) return null;
        long s = timeout.toSeconds() + (timeout.toNanosPart() > 0 ? 1 : 0);
        return (int) Math.max(1, s);
    }

    /** The request body of {@code POST /sandboxes/{id}/exec}. */
    Map<String, Object> body() {
        var b = new LinkedHashMap<String, Object>();
        b.put("cmd", cmd);
        if (!env.isEmpty()) b.put("env", Map.copyOf(env));
        if (cwd != null) b.put("cwd", cwd);
        if (user != null) b.put("user", user);
        if (stdin != null) b.put("stdin", stdin);
        if (timeout != null) b.put("timeout_sec", timeoutSeconds());
        return b;
    }

    static void checkEnv(String key, String value) {
        if (key == null || key.isEmpty()) throw new IllegalArgumentException("environment variable names must not be null or empty");
        if (key.indexOf('=') >= 0 || key.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("environment variable name must not contain '=' or NUL: " + Validate.printable(key));
        }
        if (value == null) throw new IllegalArgumentException("environment variable " + key + " has a null value");
        if (value.indexOf('\0') >= 0) throw new IllegalArgumentException("environment variable " + key + " holds a NUL byte");
    }
}

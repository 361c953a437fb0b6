package dev.bhatti.agent;

import dev.bhatti.protocol.Message;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Makes a fuzzed operation harmless before the real agent runs it on this host (as root): commands
 * become {@code /bin/echo} or {@code /bin/true} with the fuzzed arguments, environment names get a
 * prefix no loader or libc reads, paths stay under {@code root}, forwards reach the test's own echo
 * server, and a resume (which sets the machine's clock, hostname and network) never runs. Every other
 * field, and the whole frame and stream structure around it, stays as the fuzzer made it.
 */
final class SafeOpenings {

    private final Path root;
    private final int echoPort;

    SafeOpenings(Path root, int echoPort) {
        this.root = root;
        this.echoPort = echoPort;
    }

    /** The harmless version of {@code m}, or null when it must not run here at all. */
    Message confine(Message m) {
        return switch (m) {
            case Message.ExecRequest e -> new Message.ExecRequest(argv(e.argv()), env(e.env()), cwd(e.cwd()), e.user(),
                    Math.min(e.timeoutMillis(), 5_000), e.stdin());
            case Message.DetachRequest d -> new Message.DetachRequest(argv(d.argv()), env(d.env()), cwd(d.cwd()), d.user(),
                    d.outputFile().startsWith("/") ? path(d.outputFile()) : d.outputFile()); // relative: refused before use
            case Message.FileRead f -> new Message.FileRead(path(f.path()), f.offsetLine(), f.limitLines(), f.maxBytes());
            case Message.FileWrite w -> new Message.FileWrite(path(w.path()), w.mode(), w.user());
            case Message.FileStat s -> new Message.FileStat(path(s.path()));
            case Message.FileListRequest l -> new Message.FileListRequest(path(l.path()));
            case Message.FileWatch w -> new Message.FileWatch(path(w.path()));
            case Message.SessionStart s -> new Message.SessionStart(s.id(), argv(s.argv()), env(s.env()), cwd(s.cwd()), s.user(),
                    s.tty(), s.rows(), s.cols(), s.maxIdleSeconds());
            case Message.ForwardOpen f -> f.port() >= 1 && f.port() <= 65535 ? new Message.ForwardOpen(echoPort) : f;
            case Message.Resumed r -> null;
            default -> m; // attach, list and kill reach only this agent's own sessions; the rest are not operations
        };
    }

    private static List<String> argv(List<String> argv) {
        var safe = new ArrayList<>(argv);
        safe.set(0, argv.getFirst().length() % 2 == 0 ? "/bin/echo" : "/bin/true");
        return safe;
    }

    private static Map<String, String> env(Map<String, String> env) {
        var safe = new LinkedHashMap<String, String>();
        env.forEach((k, v) -> safe.put("FZ_" + k, v)); // not LD_*, PATH, GCONV_PATH or anything else that is read
        return safe;
    }

    /** A working directory: the agent would take a relative one from its own; here it is under root too. */
    private String cwd(String p) {
        return p.isEmpty() || p.startsWith("/") ? path(p) : path("/" + p);
    }

    /** Relative paths stay relative (to the workspace, under root); absolute ones move under root; ".." goes. */
    String path(String p) {
        if (p.isEmpty()) return p;
        var parts = new ArrayList<String>();
        for (String s : p.split("/", -1)) if (!s.equals("..")) parts.add(s);
        String safe = String.join("/", parts);
        return p.startsWith("/") ? root + "/" + safe : safe;
    }
}

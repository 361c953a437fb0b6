package dev.bhatti.sdk;

import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * One sandbox: run commands in it, move files in and out, stop, start, snapshot and destroy it.
 * {@link #info()} is the daemon's last answer about it (every call that returns the sandbox updates it;
 * {@link #refresh()} asks again). Safe to share between threads.
 */
public final class Sandbox {
    /** What a streamed exec keeps of a stream nobody consumes, like the daemon's cap on a buffered one. */
    static final int MAX_CAPTURED = 10 * 1024 * 1024;
    /** The daemon's exec timeout when none is given. */
    static final Duration DEFAULT_EXEC_TIMEOUT = Duration.ofMinutes(5);

    private final Transport t;
    private final String id;
    private volatile SandboxInfo info;
    private final SandboxFiles files;

    Sandbox(Transport t, SandboxInfo info) {
        if (info == null || info.id() == null || info.id().isBlank()) throw new ServerError("the daemon answered a sandbox without an id", 0);
        this.t = t;
        this.id = info.id();
        this.info = info;
        this.files = new SandboxFiles(t, this);
    }

    public String id() { return id; }

    public String name() { return info.name(); }

    /** The status in the daemon's last answer (starting, running, stopped, error). */
    public String status() { return info.status(); }

    public SandboxInfo info() { return info; }

    /** Asks the daemon again (with the disk usage). */
    public Sandbox refresh() {
        info = t.call("GET", path(""), null, SandboxInfo.class);
        return this;
    }

    /** Runs {@code cmd} to its end and returns what it did: {@code sb.exec("uname", "-a").stdout()}. */
    public ExecResult exec(String... cmd) { return exec(Exec.of(cmd)); }

    /**
     * Runs {@code exec} to its end. Without output consumers the daemon answers whole (capped at 10 MB a
     * stream); with them the output is streamed to them as it happens, and the result holds the streams
     * nobody consumed. A stream cut before the command's end is a {@link ConnectionFailed}.
     */
    public ExecResult exec(Exec exec) {
        Validate.notNull("exec", exec);
        if (!exec.streamed()) return t.call("POST", path("/exec"), exec.body(), ExecResult.class, waitFor(exec));
        var out = new Capture(exec.stdoutConsumer());
        var err = new Capture(exec.stderrConsumer());
        try (Stream<ExecEvent> events = execStream(exec)) {
            for (var it = events.iterator(); it.hasNext(); ) {
                switch (it.next()) {
                    case ExecEvent.Stdout s -> out.accept(s.data());
                    case ExecEvent.Stderr s -> err.accept(s.data());
                    case ExecEvent.Exit x -> {
                        return new ExecResult(x.exitCode(), out.text(), err.text(), x.timedOut(), out.truncated || err.truncated);
                    }
                }
            }
        }
        throw new IllegalStateException("unreachable: an exec stream ends with its exit or throws");
    }

    /**
     * Runs {@code exec} and gives its events as they happen, the {@link ExecEvent.Exit} last. Close the
     * stream (try-with-resources): closing it before the end drops the connection, and the command runs on
     * to its end or timeout. Iterating throws {@link ConnectionFailed} if the stream ends before the exit
     * and {@link ServerError} if the daemon reports a failure. Consumers set on {@code exec} are not called.
     */
    public Stream<ExecEvent> execStream(Exec exec) {
        Validate.notNull("exec", exec);
        HttpRequest request = t.request("POST", path("/exec"), HttpRequest.BodyPublishers.ofByteArray(Json.MAPPER.writeValueAsBytes(exec.body())),
                        waitFor(exec))
                .header("Content-Type", "application/json").header("Accept", "application/x-ndjson").build();
        HttpResponse<InputStream> r = t.open(request);
        var events = new NdjsonEvents(r.body(), t.config.url());
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(events, Spliterator.ORDERED | Spliterator.NONNULL), false)
                .onClose(events::close);
    }

    /** How long an exec's answer may take: its command's timeout, plus the request timeout for a wake and the rest. */
    private Duration waitFor(Exec exec) {
        Integer s = exec.timeoutSeconds();
        return (s == null ? DEFAULT_EXEC_TIMEOUT : Duration.ofSeconds(s)).plus(t.requestTimeout);
    }

    /** Files in the guest. */
    public SandboxFiles files() { return files; }

    /** Puts the whole machine (memory, processes) to disk and ends its VM; {@link #start()} brings it back as it was. */
    public Sandbox stop() { return transition("/stop", Map.of()); }

    /** Resumes it where it was (from disk or memory). */
    public Sandbox start() { return transition("/start", Map.of()); }

    /** Boots it from its disk, dropping the memory it was stopped with (when that cannot be resumed). */
    public Sandbox forceStart() { return transition("/start", Map.of("force", true)); }

    /** Stops its vCPUs and keeps its memory (warm); {@link #resume()} runs it again. */
    public Sandbox pause() { return transition("/pause", Map.of()); }

    public Sandbox resume() { return transition("/resume", Map.of()); }

    /** Whether it stays hot (never paused or put to disk for being idle); true also wakes it. */
    public Sandbox keepHot(boolean keepHot) {
        info = t.call("PATCH", path(""), Map.of("keep_hot", keepHot), SandboxInfo.class);
        return this;
    }

    private Sandbox transition(String op, Map<String, Object> body) {
        info = t.call("POST", path(op), body, SandboxInfo.class);
        return this;
    }

    /** A named snapshot of it now (it keeps running); {@link Snapshots#resume} makes new sandboxes of it. */
    public Snapshot snapshot(String name) {
        return t.call("POST", path("/checkpoint"), Map.of("name", Validate.name("snapshot name", name)), Snapshot.class);
    }

    /** Destroys it: its VM, disk and everything that reaches it (forwards, published ports, shells). */
    public void destroy() { t.call("DELETE", path(""), null); }

    /** Publishes guest port {@code port} at a public URL with the default alias (its name and 6 hex digits). */
    public Published publish(int port) { return publish(port, null); }

    /** Publishes guest port {@code port} at {@code <alias>.<proxy domain>}; publishing it again with the same alias is no change. */
    public Published publish(int port, String alias) {
        Validate.range("port", port, 1, 65535);
        if (alias != null && !alias.matches("[a-z0-9][a-z0-9-]{0,62}")) {
            throw new IllegalArgumentException("alias must be lower-case letters, digits and '-' (at most 63, not starting with '-'), got " + Validate.printable(alias));
        }
        return t.call("POST", path("/publish"), alias == null ? Map.of("port", port) : Map.of("port", port, "alias", alias), Published.class);
    }

    public void unpublish(int port) { t.call("DELETE", path("/publish/" + Validate.range("port", port, 1, 65535)), null); }

    /** Its published ports. */
    public List<Published> published() { return t.list(path("/publish"), Published.class); }

    /** Forwards a free port on the daemon's host (127.0.0.1) to guest port {@code guestPort}. */
    public Forward forward(int guestPort) {
        return t.call("POST", path("/forward"), Map.of("guest_port", Validate.range("guest port", guestPort, 1, 65535)), Forward.class);
    }

    /** Forwards host port {@code hostPort} (127.0.0.1 on the daemon's host) to guest port {@code guestPort}. */
    public Forward forward(int guestPort, int hostPort) {
        return t.call("POST", path("/forward"), Map.of("guest_port", Validate.range("guest port", guestPort, 1, 65535),
                "host_port", Validate.range("host port", hostPort, 1, 65535)), Forward.class);
    }

    /** Its port forwards. */
    public List<Forward> forwards() { return t.list(path("/forward"), Forward.class); }

    /** Stops the forward listening on {@code hostPort}. */
    public void unforward(int hostPort) { t.call("DELETE", path("/forward/" + Validate.range("host port", hostPort, 1, 65535)), null); }

    /** Its sessions: shells, piped processes, the init process. */
    public List<SessionInfo> sessions() { return t.list(path("/sessions"), SessionInfo.class); }

    /** Kills a session's process group (SIGKILL). */
    public void killSession(String sessionId) { killSession(sessionId, 9); }

    /** Sends {@code signal} (1 to 64) to a session's process group. */
    public void killSession(String sessionId, int signal) {
        Validate.range("signal", signal, 1, 64);
        t.call("DELETE", path("/sessions/" + Transport.segment(ShellOptions.checkedSessionId(sessionId)) + "?signal=" + signal), null);
    }

    /** A terminal: the newest detached shell again, else a new one, 24x80. */
    public Shell shell() { return shell(ShellOptions.defaults()); }

    /** A terminal as {@code options} say (a new shell, a given session, its size). */
    public Shell shell(ShellOptions options) { return Shell.open(t, this, Validate.notNull("options", options)); }

    String path(String suffix) { return "/sandboxes/" + Transport.segment(id) + suffix; }

    @Override
    public String toString() { return "Sandbox[name=" + info.name() + ", id=" + id + ", status=" + info.status() + "]"; }

    /** A stream's text: to its consumer if it has one, else kept (up to a cap). */
    private static final class Capture {
        private final Consumer<String> consumer;
        private final StringBuilder kept = new StringBuilder();
        boolean truncated;

        Capture(Consumer<String> consumer) { this.consumer = consumer; }

        void accept(String data) {
            if (consumer != null) {
                consumer.accept(data);
            } else if (kept.length() + data.length() <= MAX_CAPTURED) {
                kept.append(data);
            } else {
                kept.append(data, 0, Math.max(0, MAX_CAPTURED - kept.length()));
                truncated = true;
            }
        }

        String text() { return kept.toString(); }
    }
}

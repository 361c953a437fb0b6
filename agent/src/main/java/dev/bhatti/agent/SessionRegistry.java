package dev.bhatti.agent;

import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.Stream;

import java.io.IOException;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The agent's sessions: start, attach, list, kill; exited sessions stay listed for a while. */
final class SessionRegistry {

    static final int MAX_RUNNING = 20;
    /** How long an exited session stays listed (and attachable, to read its last output). */
    static final long KEEP_EXITED_SECONDS = 60;

    private final AgentConfig config;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final AtomicInteger counter = new AtomicInteger();

    SessionRegistry(AgentConfig config) {
        this.config = config;
        Thread.ofVirtual().name("session-reaper").start(this::reapLoop);
    }

    void start(Stream stream, Message.SessionStart req) throws IOException, InterruptedException {
        if (sessions.values().stream().filter(Session::running).count() >= MAX_RUNNING) {
            stream.send(new Message.Error("limit", "session limit reached (" + MAX_RUNNING + " running); kill one first"));
            return;
        }
        var env = new LinkedHashMap<>(req.env());
        if (req.tty()) env.putIfAbsent("TERM", "xterm-256color");
        Session session;
        switch (Launch.prepare(config, req.argv(), env, req.cwd(), req.user())) {
            case Launch.Invalid i -> { stream.send(new Message.Error("bad_request", i.message())); return; }
            case Launch.NotRunnable n -> { stream.send(new Message.Error("not_runnable", n.message())); return; }
            case Launch.Ready r -> {
                String id = req.id().isEmpty() ? "s" + counter.incrementAndGet() : req.id();
                if (!id.matches("[a-z][a-z0-9_-]{0,31}")) {
                    stream.send(new Message.Error("bad_request", "invalid session id " + id));
                    return;
                }
                if (sessions.containsKey(id)) {
                    stream.send(new Message.Error("conflict", "session " + id + " exists"));
                    return;
                }
                Session.Io io;
                try {
                    if (req.tty()) {
                        io = Session.terminal(Pty.spawn(r.program(), r.argv(), r.env(), r.cwd(), clamp(req.rows(), 24), clamp(req.cols(), 80)));
                    } else {
                        io = Session.piped(r.builder().redirectErrorStream(true).start());
                    }
                } catch (IOException e) {
                    stream.send(new Message.Error("spawn_failed", e.getMessage()));
                    return;
                }
                Libc.resetOomScore(io.pid());
                config.contain("session", io.pid());
                session = new Session(id, req.argv(), req.tty(), req.maxIdleSeconds(), io, this);
                sessions.put(id, session);
                session.start();
                Log.info("session " + id + " started: " + String.join(" ", req.argv()));
            }
        }
        session.serve(stream, false);
    }

    void attach(Stream stream, Message.SessionAttach req) throws IOException, InterruptedException {
        Session s = sessions.get(req.sessionId());
        if (s == null) {
            stream.send(new Message.Error("not_found", "no session " + req.sessionId()));
            return;
        }
        s.serve(stream, req.ifDetached());
    }

    Message list() {
        return new Message.SessionList(sessions.values().stream()
                .sorted(Comparator.comparingLong((Session s) -> s.createdAt).thenComparing(s -> s.id))
                .map(Session::info).toList());
    }

    Message kill(Message.SessionKill req) {
        Session s = sessions.get(req.sessionId());
        if (s == null) return new Message.Error("not_found", "no session " + req.sessionId());
        if (req.signal() < 1 || req.signal() > 64) return new Message.Error("bad_request", "bad signal " + req.signal());
        s.signal(req.signal());
        return new Message.Exit(0, false);
    }

    void exited(Session s) {
        Log.info("session " + s.id + " exited with " + s.info().exitCode());
        Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(TimeUnit.SECONDS.toMillis(KEEP_EXITED_SECONDS));
            } catch (InterruptedException ignored) {
                // remove now
            }
            sessions.remove(s.id, s);
        });
    }

    private void reapLoop() {
        while (true) {
            try {
                Thread.sleep(5_000);
            } catch (InterruptedException e) {
                return;
            }
            sessions.values().forEach(Session::reapIfIdle);
            if (config.cgroups() != null) config.cgroups().sweep();
        }
    }

    private static int clamp(int v, int dflt) { return v > 0 && v < 10_000 ? v : dflt; }
}

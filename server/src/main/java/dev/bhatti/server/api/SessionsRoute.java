package dev.bhatti.server.api;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.engine.Guest;
import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.GuestSession;
import dev.bhatti.engine.SessionChannel;
import dev.bhatti.engine.SessionOpen;
import dev.bhatti.server.sandbox.SandboxService;
import dev.bhatti.server.store.UserRecord;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.websocket.server.ServerWebSocketContainer;

import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import dev.bhatti.engine.ExecCommand;
import java.io.IOException;
import java.util.ArrayList;
import org.eclipse.jetty.http.HttpHeader;
import tools.jackson.databind.JsonNode;

/**
 * Interactive shells over WebSocket ({@code /sandboxes/{id}/ws}) and the session list and kill routes.
 * Without {@code session} or {@code new=true}, a shell reattaches to the newest running terminal
 * session nobody is attached to, so a dropped connection never strands a shell.
 */
final class SessionsRoute {
    static final List<String> SHELL = List.of("/bin/bash", "-li");
    /** A shell nobody attaches to for an hour is killed. */
    static final long SHELL_MAX_IDLE_SECONDS = 3600;

    private final SandboxService sandboxes;
    private final ServerWebSocketContainer websockets;

    SessionsRoute(SandboxService sandboxes, ServerWebSocketContainer websockets) {
        this.sandboxes = sandboxes;
        this.websockets = websockets;
    }

    List<Route> routes() {
        return List.of(
                Route.keyed("GET", "/sandboxes/{id}/exec/ws", c -> {
                    piped(c.user(), c.param("id"), c.request(), c.response(), c.callback());
                    return Reply.STREAMED;
                }),
                Route.keyed("GET", "/sandboxes/{id}/ws", c -> {
                    shell(c.user(), c.param("id"), c.request(), c.response(), c.callback());
                    return Reply.STREAMED;
                }),
                Route.keyed("GET", "/sandboxes/{id}/sessions", c -> Reply.ok(list(c.user(), c.param("id")))),
                Route.keyed("DELETE", "/sandboxes/{id}/sessions/{session}", c -> Reply.ok(kill(c.user(), c.param("id"), c.param("session"), c.request()))));
    }

    /** Upgrades to a WebSocket relaying a shell; returns false if the request was no upgrade. */
    boolean shell(UserRecord user, String id, Request request, Response response, Callback callback) {
        // Checked first, so that a plain GET never starts a shell nobody will see.
        if (!"websocket".equalsIgnoreCase(request.getHeaders().get(HttpHeader.UPGRADE))) {
            throw DomainException.invalid("this route needs a WebSocket upgrade (use bhatti shell)");
        }
        Fields q = QueryParameters.of(request);
        String sessionId = q.getValue("session");
        boolean fresh = "true".equals(q.getValue("new"));
        int rows = size(q.getValue("rows"), 24);
        int cols = size(q.getValue("cols"), 80);
        if (sessionId != null && !sessionId.matches("s[0-9]{1,9}|init")) throw DomainException.invalid("invalid session id");
        SessionChannel channel = sandboxes.onRunning(user, id, guest -> open(guest, sessionId, fresh, rows, cols));
        boolean upgraded;
        try {
            upgraded = websockets.upgrade((req, resp, cb) -> new ShellSocket(channel, false).keepsBusy(sandboxes.busy(user, id)),
                    request, response, callback);
        } catch (RuntimeException e) {
            channel.close();
            throw e;
        }
        if (!upgraded) {
            channel.close();
            throw DomainException.invalid("this route needs a WebSocket upgrade (use bhatti shell)");
        }
        return true;
    }

    /**
     * A piped session over WebSocket ({@code /sandboxes/{id}/exec/ws}): started by the client's first
     * message, or reattached with {@code ?session=ID}. Output arrives as text; stdout and stderr merged.
     */
    boolean piped(UserRecord user, String id, Request request, Response response, Callback callback) {
        if (!"websocket".equalsIgnoreCase(request.getHeaders().get(HttpHeader.UPGRADE))) {
            throw DomainException.invalid("this route needs a WebSocket upgrade");
        }
        String sessionId = QueryParameters.of(request).getValue("session");
        ShellSocket socket;
        if (sessionId != null) {
            if (!sessionId.matches("s[0-9]{1,9}|init")) throw DomainException.invalid("invalid session id");
            SessionChannel attached = sandboxes.onRunning(user, id, guest ->
                    guest.openSession(new SessionOpen.Attach(sessionId, false)));
            socket = new ShellSocket(attached, true);
        } else {
            sandboxes.awake(user, id);
            socket = new ShellSocket(first -> sandboxes.onRunning(user, id, guest ->
                    guest.openSession(pipedStart(first))));
        }
        if (!websockets.upgrade((req, resp, cb) -> socket.keepsBusy(sandboxes.busy(user, id)), request, response, callback)) {
            throw DomainException.invalid("this route needs a WebSocket upgrade");
        }
        return true;
    }

    private static SessionOpen.Start pipedStart(JsonNode first) {
        var cmd = new ArrayList<String>();
        first.path("cmd").forEach(a -> cmd.add(a.asString()));
        if (cmd.isEmpty() || cmd.stream().anyMatch(a -> a.indexOf('\0') >= 0)) throw DomainException.invalid("cmd must be a non-empty array of strings");
        var env = new LinkedHashMap<String, String>();
        first.path("env").properties().forEach(e -> env.put(e.getKey(), e.getValue().asString()));
        env.keySet().forEach(k -> {
            if (k.isEmpty() || k.indexOf('=') >= 0 || k.indexOf('\0') >= 0) throw DomainException.invalid("invalid environment variable");
        });
        String beyond = ExecCommand.beyondGuestLimits(cmd, env);
        if (beyond != null) throw DomainException.invalid(beyond);
        long maxIdle = first.path("max_idle_sec").asLong(SHELL_MAX_IDLE_SECONDS);
        if (maxIdle < 0 || maxIdle > 86_400 * 7) throw DomainException.invalid("max_idle_sec out of range");
        return new SessionOpen.Start("", cmd, env, "", "", false, 0, 0, maxIdle);
    }

    private static SessionChannel open(Guest guest, String sessionId, boolean fresh, int rows, int cols)
            throws EngineException {
        if (sessionId != null) return guest.openSession(new SessionOpen.Attach(sessionId, false));
        if (!fresh) {
            var detached = guest.listSessions().stream()
                    .filter(s -> s.tty() && s.running() && !s.attached())
                    .max(Comparator.comparingLong(GuestSession::createdAtMillis));
            if (detached.isPresent()) {
                try {
                    SessionChannel ch = guest.openSession(new SessionOpen.Attach(detached.get().id(), true));
                    ch.resize(rows, cols);
                    return ch;
                } catch (EngineException | IOException e) {
                    // someone attached first, or it just ended: start a new shell instead
                }
            }
        }
        return guest.openSession(new SessionOpen.Start("", SHELL, Map.of(), "", "", true, rows, cols, SHELL_MAX_IDLE_SECONDS));
    }

    List<Map<String, Object>> list(UserRecord user, String id) {
        return sandboxes.onRunning(user, id, Guest::listSessions).stream().map(SessionsRoute::view).toList();
    }

    Map<String, Object> kill(UserRecord user, String id, String sessionId, Request request) {
        Fields q = QueryParameters.of(request);
        int signal = 9;
        if (q.getValue("signal") != null) {
            try {
                signal = Integer.parseInt(q.getValue("signal"));
            } catch (NumberFormatException e) {
                throw DomainException.invalid("signal must be a number");
            }
            if (signal < 1 || signal > 64) throw DomainException.invalid("signal must be from 1 to 64");
        }
        int sig = signal;
        sandboxes.onRunning(user, id, guest -> {
            guest.signalSession(sessionId, sig);
            return null;
        });
        return Map.of("status", "signalled", "session_id", sessionId, "signal", sig);
    }

    static Map<String, Object> view(GuestSession s) {
        var m = new LinkedHashMap<String, Object>();
        m.put("session_id", s.id());
        m.put("argv", s.argv());
        m.put("tty", s.tty());
        m.put("running", s.running());
        m.put("exit_code", s.exitCode());
        m.put("attached", s.attached());
        m.put("created_at", Instant.ofEpochMilli(s.createdAtMillis()).toString());
        return m;
    }

    private static int size(String v, int dflt) {
        if (v == null) return dflt;
        try {
            int n = Integer.parseInt(v);
            if (n < 1 || n > 9999) throw DomainException.invalid("rows and cols must be from 1 to 9999");
            return n;
        } catch (NumberFormatException e) {
            throw DomainException.invalid("rows and cols must be numbers");
        }
    }
}

package dev.bhatti.server.api;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.engine.SessionOpen;
import dev.bhatti.server.auth.ApiKeys;
import dev.bhatti.server.ratelimit.RateLimits;
import dev.bhatti.server.sandbox.SandboxService;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.Store;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.server.ServerWebSocketContainer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import dev.bhatti.engine.SessionChannel;
import tools.jackson.databind.JsonNode;

/**
 * The shareable web shell: {@code /_shell/<sandbox id>} serves an xterm.js page, which reads its token
 * from the URL fragment (never sent to the server, so never in logs or referrers), opens
 * {@code /_shell/<id>/ws} and sends {@code {"type":"auth","token":...}} first. Every failure (no such
 * sandbox, no token, a wrong or revoked one) is the same "unauthorized", after the upgrade, so the
 * route reveals nothing. Each page gets a new shell; revoking the token disconnects every open page.
 */
final class WebShells {
    static final String PREFIX = "/_shell/";
    static final int MAX_PER_SANDBOX = 5;
    static final long AUTH_DEADLINE_MS = 10_000;
    private static final List<String> SHELL = List.of("/bin/bash", "-li");
    private static final Map<String, String> ASSETS = Map.of(
            "xterm.js", "application/javascript", "xterm.css", "text/css", "addon-fit.js", "application/javascript");
    private static final byte[] PAGE = resource("shell.html");

    private final Store store;
    private final SandboxService sandboxes;
    private final ServerWebSocketContainer websockets;
    private final RateLimits rateLimits;
    private final Map<String, Set<ShellSocket>> live = new ConcurrentHashMap<>();

    WebShells(Store store, SandboxService sandboxes, ServerWebSocketContainer websockets, RateLimits rateLimits) {
        this.store = store;
        this.sandboxes = sandboxes;
        this.websockets = websockets;
        this.rateLimits = rateLimits;
    }

    /** A new token for the sandbox (the previous one, and pages opened with it, stop working). */
    String newToken(SandboxRecord s) {
        disconnect(s.id(), "a new share link replaced this one");
        String token = ApiKeys.randomHex(32);
        store.setShellToken(s.id(), ApiKeys.hash(token), Instant.now());
        return token;
    }

    boolean revoke(SandboxRecord s) {
        boolean had = store.deleteShellToken(s.id());
        disconnect(s.id(), "the share link was revoked");
        return had;
    }

    /** Closes the sandbox's open web shells (on revoke and on destroy). */
    void disconnect(String sandboxId, String reason) {
        Set<ShellSocket> sockets = live.remove(sandboxId);
        if (sockets != null) sockets.forEach(s -> s.disconnect(reason));
    }

    /** Handles {@code /_shell/...}; unauthenticated by API key. */
    void handle(Request request, Response response, Callback callback, String path) throws IOException {
        String rest = path.substring(PREFIX.length());
        if (!request.getMethod().equals("GET")) throw DomainException.notAllowed("method not allowed");
        if (rest.startsWith("assets/") && ASSETS.containsKey(rest.substring(7))) {
            String name = rest.substring(7);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, ASSETS.get(name));
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "public, max-age=86400");
            response.write(true, ByteBuffer.wrap(Assets.get(name)), callback);
            return;
        }
        if (rest.matches("[0-9a-f]{16}")) {
            page(response, callback);
            return;
        }
        if (rest.matches("[0-9a-f]{16}/ws")) {
            socket(rest.substring(0, 16), request, response, callback);
            return;
        }
        throw DomainException.notFound("not found");
    }

    private void page(Response response, Callback callback) {
        String nonce = ApiKeys.randomHex(16);
        var h = response.getHeaders();
        h.put(HttpHeader.CONTENT_TYPE, "text/html; charset=utf-8");
        h.put("Content-Security-Policy", "default-src 'none'; script-src 'self' 'nonce-" + nonce + "'; style-src 'self' 'nonce-" + nonce
                + "'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'");
        h.put("Referrer-Policy", "no-referrer");
        h.put("X-Frame-Options", "DENY");
        h.put(HttpHeader.CACHE_CONTROL, "no-store");
        byte[] html = new String(PAGE, StandardCharsets.UTF_8).replace("{{NONCE}}", nonce).getBytes(StandardCharsets.UTF_8);
        response.write(true, ByteBuffer.wrap(html), callback);
    }

    private void socket(String sandboxId, Request request, Response response, Callback callback) {
        // per address, like failed logins: guessing tokens must stay slow
        var decision = rateLimits.take("shell:" + Request.getRemoteAddr(request), RateLimits.Kind.AUTH_FAILURE);
        if (!decision.allowed()) throw DomainException.rateLimited("too many web shell attempts; wait a moment", decision.retryAfterSeconds());
        if (!"websocket".equalsIgnoreCase(request.getHeaders().get(HttpHeader.UPGRADE))) {
            throw DomainException.invalid("this route needs a WebSocket upgrade (open the page instead)");
        }
        var socket = new ShellSocket[1];
        socket[0] = new ShellSocket(first -> open(sandboxId, first, socket[0]), false);
        Thread.ofVirtual().name("shell-auth-deadline").start(() -> {
            try {
                Thread.sleep(AUTH_DEADLINE_MS);
            } catch (InterruptedException e) {
                return;
            }
            if (!socket[0].hasSession() && !socket[0].isClosed()) socket[0].disconnect("unauthorized");
        });
        if (!websockets.upgrade((req, resp, cb) -> socket[0], request, response, callback)) {
            throw DomainException.invalid("this route needs a WebSocket upgrade");
        }
    }

    /** Checks the first message's token and opens a fresh terminal; any failure is "unauthorized". */
    private SessionChannel open(String sandboxId, JsonNode first, ShellSocket socket) {
        String token = first.path("type").asString("").equals("auth") ? first.path("token").asString("") : "";
        SandboxRecord s = sandboxes.byId(sandboxId).orElse(null);
        String expected = s == null ? null : store.shellTokenHash(s.id()).orElse(null);
        byte[] given = ApiKeys.hash(token).getBytes(StandardCharsets.US_ASCII);
        boolean ok = expected != null && !token.isEmpty() & MessageDigest.isEqual(given, expected.getBytes(StandardCharsets.US_ASCII));
        if (!ok) throw DomainException.unauthorized("unauthorized");
        Set<ShellSocket> sockets = live.computeIfAbsent(s.id(), k -> ConcurrentHashMap.newKeySet());
        sockets.removeIf(ShellSocket::isClosed);
        if (sockets.size() >= MAX_PER_SANDBOX) throw DomainException.conflict("too many web shells open on this sandbox");
        int rows = Math.clamp(first.path("rows").asInt(24), 1, 1000);
        int cols = Math.clamp(first.path("cols").asInt(80), 1, 1000);
        var channel = sandboxes.onRunning(s, guest -> guest.openSession(
                new SessionOpen.Start("", SHELL, Map.of(), "", "", true, rows, cols, SessionsRoute.SHELL_MAX_IDLE_SECONDS)));
        socket.keepsBusy(sandboxes.busy(s));
        sockets.add(socket);
        return channel;
    }

    private static byte[] resource(String name) {
        try (InputStream in = WebShells.class.getResourceAsStream("/web/" + name)) {
            if (in == null) throw new IllegalStateException("missing resource /web/" + name);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The page's scripts and styles, loaded once. */
    private static final class Assets {
        private static final Map<String, byte[]> FILES = Map.of(
                "xterm.js", resource("xterm.js"), "xterm.css", resource("xterm.css"), "addon-fit.js", resource("addon-fit.js"));

        static byte[] get(String name) { return FILES.get(name); }
    }
}

package dev.bhatti.server.proxy;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.StatusCode;
import org.eclipse.jetty.websocket.api.exceptions.UpgradeException;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.JettyUpgradeListener;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.eclipse.jetty.websocket.server.ServerUpgradeRequest;
import org.eclipse.jetty.websocket.server.ServerUpgradeResponse;
import org.eclipse.jetty.websocket.server.ServerWebSocketContainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import org.eclipse.jetty.websocket.api.Configurable;

/**
 * WebSockets through the public proxy. The guest's server is connected first, so its answer decides
 * the client's: a refusal (say 403 or 404) is passed on as it is, and the subprotocol it picks is the
 * one the client gets. Then frames are relayed both ways as they come, pings and pongs included, with
 * back-pressure: a side is read again only once its last frame was written to the other. Frames larger
 * than {@link #MAX_FRAME} arrive in fragments, so memory per connection stays bounded whatever the
 * message sizes.
 */
final class WebSocketRelay implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WebSocketRelay.class);
    static final Duration IDLE = Duration.ofMinutes(10);
    static final long MAX_FRAME = 1 << 20;
    /** How long after the guest's side connected the client's side has to open (its upgrade answer written). */
    static final Duration CLIENT_OPEN_TIMEOUT = Duration.ofSeconds(30);
    private static final long UNLIMITED_MESSAGE = Long.MAX_VALUE;
    /** Headers of the handshake itself or of this hop; the rest (cookies, origin, auth...) reach the guest. */
    private static final Set<String> NOT_FORWARDED = Set.of("host", "connection", "upgrade", "content-length", "transfer-encoding",
            "keep-alive", "proxy-connection", "te", "trailer", "sec-websocket-key", "sec-websocket-version",
            "sec-websocket-extensions", "sec-websocket-protocol", "sec-websocket-accept");

    private final WebSocketClient client = new WebSocketClient();

    WebSocketRelay() throws Exception {
        client.setConnectTimeout(10_000);
        configure(client);
        client.start();
    }

    /** The limits of both sides: the guest's (this relay's client) and the public one (the proxy's container). */
    static void configure(Configurable side) {
        side.setIdleTimeout(IDLE);
        side.setMaxFrameSize(MAX_FRAME);
        side.setAutoFragment(true);
        side.setMaxTextMessageSize(UNLIMITED_MESSAGE);
        side.setMaxBinaryMessageSize(UNLIMITED_MESSAGE);
    }

    static boolean isUpgrade(Request request) {
        String upgrade = request.getHeaders().get(HttpHeader.UPGRADE);
        return "GET".equals(request.getMethod()) && upgrade != null && upgrade.toLowerCase(Locale.ROOT).contains("websocket");
    }

    /**
     * Upgrades the request if it is a WebSocket handshake, relaying it to {@code port} on loopback.
     * Returns false when it is not one (the caller proxies it as plain HTTP).
     */
    boolean relay(ServerWebSocketContainer container, Request request, Response response, Callback callback, int port) throws Exception {
        return container.upgrade((req, resp, cb) -> connect(req, resp, cb, port), request, response, callback);
    }

    private Object connect(ServerUpgradeRequest req, ServerUpgradeResponse resp, Callback cb, int port) throws InterruptedException {
        var uri = req.getHttpURI();
        URI target = URI.create("ws://127.0.0.1:" + port + uri.getPathQuery());
        var upgrade = new ClientUpgradeRequest(target);
        for (HttpField f : req.getHeaders()) {
            if (!NOT_FORWARDED.contains(f.getLowerCaseName())) upgrade.setHeader(f.getName(), f.getValue());
        }
        upgrade.setSubProtocols(req.getSubProtocols());
        upgrade.setHeader("X-Forwarded-For", Request.getRemoteAddr(req));
        upgrade.setHeader("X-Forwarded-Proto", req.isSecure() ? "https" : "http");
        String host = req.getHeaders().get(HttpHeader.HOST);
        if (host != null) upgrade.setHeader("X-Forwarded-Host", host);
        JettyUpgradeListener keepHost = new JettyUpgradeListener() {
            @Override
            public void onHandshakeRequest(org.eclipse.jetty.client.Request r) {
                // the guest's server sees the public host name, as with plain HTTP through the proxy
                if (host != null) r.headers(h -> h.put(HttpHeader.HOST, host));
            }
        };
        var opened = new AtomicInteger();
        var guestSide = new End("guest", opened);
        var clientSide = new End("client", opened);
        guestSide.peer = clientSide;
        clientSide.peer = guestSide;
        Session guest;
        CompletableFuture<Session> pending = null;
        try {
            pending = client.connect(guestSide, upgrade, keepHost);
            guest = pending.get(15, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException | IOException e) {
            if (pending != null) pending.thenAccept(Session::close); // a late answer must not leave a guest connection open
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            int status = cause instanceof UpgradeException u && u.getResponseStatusCode() >= 400 ? u.getResponseStatusCode() : 502;
            Response.writeError(req, resp, cb, status, status == 502 ? "the sandbox's server did not accept the WebSocket: " + cause.getMessage()
                    : "the sandbox's server refused the WebSocket");
            return null;
        }
        String protocol = guest.getUpgradeResponse().getAcceptedSubProtocol();
        if (protocol != null) resp.setAcceptedSubProtocol(protocol);
        // the client's side opens only if its upgrade response goes out; if the client is gone by then,
        // nothing else would end the guest's connection before its idle timeout
        CompletableFuture.delayedExecutor(CLIENT_OPEN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).execute(() -> {
            if (clientSide.session == null && guest.isOpen()) guest.close(StatusCode.SHUTDOWN, "the client went away", org.eclipse.jetty.websocket.api.Callback.NOOP);
        });
        return clientSide;
    }

    @Override
    public void close() {
        try {
            client.stop();
        } catch (Exception e) {
            log.debug("stopping the WebSocket client: {}", e.getMessage());
        }
    }

    /**
     * One side of a relayed WebSocket: what it receives goes to its peer. Neither side reads until both
     * are open, so nothing needs buffering. (Public: Jetty invokes endpoints through a public lookup.)
     */
    public static final class End implements Session.Listener {
        private final String name;
        private End peer;
        private volatile Session session;
        /** Shared by both sides: how many are open. */
        private final AtomicInteger opened;

        End(String name, AtomicInteger opened) {
            this.name = name;
            this.opened = opened;
        }

        @Override
        public void onWebSocketOpen(Session s) {
            this.session = s;
            if (opened.incrementAndGet() == 2) {
                s.demand();
                peer.session.demand();
            }
        }

        @Override
        public void onWebSocketPartialText(String payload, boolean last) {
            peer.session.sendPartialText(payload, last, org.eclipse.jetty.websocket.api.Callback.from(session::demand, this::fail));
        }

        @Override
        public void onWebSocketPartialBinary(ByteBuffer payload, boolean last, org.eclipse.jetty.websocket.api.Callback done) {
            peer.session.sendPartialBinary(payload, last, org.eclipse.jetty.websocket.api.Callback.from(() -> {
                done.succeed();
                session.demand();
            }, x -> {
                done.fail(x);
                fail(x);
            }));
        }

        @Override
        public void onWebSocketPing(ByteBuffer payload) {
            peer.session.sendPing(payload, org.eclipse.jetty.websocket.api.Callback.from(session::demand, this::fail));
        }

        @Override
        public void onWebSocketPong(ByteBuffer payload) {
            peer.session.sendPong(payload, org.eclipse.jetty.websocket.api.Callback.from(session::demand, this::fail));
        }

        @Override
        public void onWebSocketClose(int status, String reason, org.eclipse.jetty.websocket.api.Callback done) {
            Session other = peer.session;
            if (other != null && other.isOpen()) other.close(transmittable(status), shorten(reason), org.eclipse.jetty.websocket.api.Callback.NOOP);
            done.succeed();
        }

        @Override
        public void onWebSocketError(Throwable cause) {
            log.debug("websocket relay, {} side: {}", name, cause.toString());
            Session other = peer.session;
            if (other != null && other.isOpen()) other.close(StatusCode.SERVER_ERROR, "the other side failed", org.eclipse.jetty.websocket.api.Callback.NOOP);
        }

        private void fail(Throwable cause) {
            log.debug("websocket relay, writing from the {} side: {}", name, cause.toString());
            session.disconnect();
            Session other = peer.session;
            if (other != null) other.disconnect();
        }

        /**
         * The close code to send on. 1005 (no code) and 1006 (dropped) describe a side and cannot be
         * sent; applications' own codes (3000-4999) can, though Jetty's StatusCode.isTransmittable says no.
         */
        static int transmittable(int status) {
            if (StatusCode.isTransmittable(status) || (status >= 3000 && status <= 4999)) return status;
            return status == StatusCode.NO_CODE ? StatusCode.NORMAL : StatusCode.SERVER_ERROR;
        }

        /** A close reason fits in 123 bytes of UTF-8. */
        static String shorten(String reason) {
            if (reason == null) return null;
            byte[] b = reason.getBytes(StandardCharsets.UTF_8);
            if (b.length <= 123) return reason;
            String s = new String(b, 0, 123, StandardCharsets.UTF_8);
            // a cut multi-byte character decodes as U+FFFD (3 bytes): drop it
            while (s.getBytes(StandardCharsets.UTF_8).length > 123 || s.endsWith("\uFFFD")) s = s.substring(0, s.length() - 1);
            return s;
        }
    }
}

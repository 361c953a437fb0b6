package dev.bhatti.cli;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.JettyUpgradeListener;
import org.eclipse.jetty.websocket.client.WebSocketClient;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket client for the tests of the public proxy: it connects with any Host header (the proxy
 * routes by it) and queues what arrives: text as String, binary as byte[], pongs as "pong:PAYLOAD".
 * (Public: Jetty invokes endpoints through a public lookup.)
 */
public final class WebSocketProbe implements Session.Listener.AutoDemanding {
    final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    final CompletableFuture<String> closed = new CompletableFuture<>();
    volatile Session session;

    /** A started client that takes messages of any size the tests send. */
    static WebSocketClient client(org.eclipse.jetty.client.HttpClient http) throws Exception {
        var c = http == null ? new WebSocketClient() : new WebSocketClient(http);
        c.setMaxBinaryMessageSize(64 << 20);
        c.setMaxTextMessageSize(64 << 20);
        c.setMaxFrameSize(64 << 20);
        c.start();
        return c;
    }

    /** Opens {@code uri} with this Host header, offering {@code protocols}; fails as the handshake fails. */
    static WebSocketProbe connect(WebSocketClient client, URI uri, String host, List<String> protocols, String cookie) throws Exception {
        var probe = new WebSocketProbe();
        var request = new ClientUpgradeRequest(uri);
        request.setSubProtocols(protocols);
        if (cookie != null) request.setHeader("Cookie", cookie);
        JettyUpgradeListener withHost = new JettyUpgradeListener() {
            @Override
            public void onHandshakeRequest(org.eclipse.jetty.client.Request r) { r.headers(h -> h.put(HttpHeader.HOST, host)); }
        };
        client.connect(probe, request, withHost).get(60, TimeUnit.SECONDS);
        return probe;
    }

    /** Uploads {@link GuestWebSocketEcho} into the sandbox and starts it on {@code port} with the guest's own Java. */
    static void startEchoServer(Map<String, String> env, String sandbox, int port) throws Exception {
        java.nio.file.Path cls = java.nio.file.Path.of(GuestWebSocketEcho.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("dev/bhatti/cli/GuestWebSocketEcho.class");
        var up = BhattiProcess.cliWithInput(env, cls, "file", "write", sandbox, "/tmp/wsecho/dev/bhatti/cli/GuestWebSocketEcho.class");
        if (up.exit() != 0) throw new AssertionError(up.toString());
        var start = BhattiProcess.cli(env, "exec", sandbox, "--", "sh", "-c", "nohup /opt/bhatti/jre/bin/java -cp /tmp/wsecho "
                + "dev.bhatti.cli.GuestWebSocketEcho " + port + " >/tmp/wsecho.log 2>&1 &");
        if (start.exit() != 0) throw new AssertionError(start.toString());
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() ->
                BhattiProcess.cli(env, "exec", sandbox, "--", "curl", "-s", "-m", "2", "http://127.0.0.1:" + port + "/up").stdout().contains("plain /up"));
    }

    Object next() throws InterruptedException {
        Object o = received.poll(60, TimeUnit.SECONDS);
        if (o == null) throw new AssertionError("nothing arrived within 60 s");
        return o;
    }

    String nextText() throws InterruptedException {
        Object o = next();
        if (!(o instanceof String s)) throw new AssertionError("expected text, got " + o);
        return s;
    }

    byte[] nextBinary() throws InterruptedException {
        Object o = next();
        if (!(o instanceof byte[] b)) throw new AssertionError("expected binary, got " + o);
        return b;
    }

    void send(String text) throws Exception {
        var done = new CompletableFuture<Void>();
        session.sendText(text, Callback.from(() -> done.complete(null), done::completeExceptionally));
        done.get(60, TimeUnit.SECONDS);
    }

    void send(byte[] data) throws Exception {
        var done = new CompletableFuture<Void>();
        session.sendBinary(ByteBuffer.wrap(data), Callback.from(() -> done.complete(null), done::completeExceptionally));
        done.get(60, TimeUnit.SECONDS);
    }

    void ping(String payload) throws Exception {
        var done = new CompletableFuture<Void>();
        session.sendPing(ByteBuffer.wrap(payload.getBytes(StandardCharsets.UTF_8)), Callback.from(() -> done.complete(null), done::completeExceptionally));
        done.get(60, TimeUnit.SECONDS);
    }

    @Override
    public void onWebSocketOpen(Session s) { this.session = s; }

    @Override
    public void onWebSocketText(String message) { received.add(message); }

    @Override
    public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
        byte[] b = new byte[payload.remaining()];
        payload.get(b);
        received.add(b);
        callback.succeed();
    }

    @Override
    public void onWebSocketPong(ByteBuffer payload) { received.add("pong:" + StandardCharsets.UTF_8.decode(payload)); }

    @Override
    public void onWebSocketClose(int status, String reason, Callback callback) {
        closed.complete(status + " " + reason);
        callback.succeed();
    }

    @Override
    public void onWebSocketError(Throwable cause) { closed.completeExceptionally(cause); }
}

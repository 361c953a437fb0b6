package dev.bhatti.server.api;

import dev.bhatti.engine.SessionChannel;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Relays one WebSocket to one guest session. Server to client: a text {@code {"type":"session"}}
 * message, then terminal output as binary messages, then {@code {"type":"exit"}} and a normal close.
 * Client to server: binary = keystrokes, text = {@code {"type":"resize","rows":R,"cols":C}}.
 * A closed or dropped WebSocket only detaches: the shell keeps running for the next attach.
 * (Public because Jetty invokes WebSocket endpoints through a public lookup.)
 */
public final class ShellSocket implements Session.Listener.AutoDemanding {
    private static final Logger log = LoggerFactory.getLogger(ShellSocket.class);
    private static final long PING_EVERY_MILLIS = 30_000;
    private static final long SEND_TIMEOUT_SECONDS = 10;

    private final SessionChannel channel;
    private volatile Session socket;
    private volatile boolean closed;

    ShellSocket(SessionChannel channel) { this.channel = channel; }

    @Override
    public void onWebSocketOpen(Session session) {
        this.socket = session;
        Thread.ofVirtual().name("shell-" + channel.session().id()).start(this::relayOutput);
    }

    private void relayOutput() {
        try {
            sendText(Json.MAPPER.writeValueAsString(Map.of("type", "session", "session_id", channel.session().id())));
            long lastPing = System.currentTimeMillis();
            while (!closed) {
                SessionChannel.Event e = channel.next(1_000);
                switch (e) {
                    case null -> { }
                    case SessionChannel.Output o -> send(f -> socket.sendBinary(ByteBuffer.wrap(o.bytes()), f));
                    case SessionChannel.Exited x -> {
                        sendText(Json.MAPPER.writeValueAsString(Map.of("type", "exit", "exit_code", x.exitCode())));
                        close(1000, "session ended");
                        return;
                    }
                    case SessionChannel.Ended x -> {
                        sendText(Json.MAPPER.writeValueAsString(Map.of("type", "detached", "reason", x.reason())));
                        close(1000, "detached");
                        return;
                    }
                }
                if (System.currentTimeMillis() - lastPing > PING_EVERY_MILLIS) {
                    send(f -> socket.sendPing(ByteBuffer.allocate(0), f));
                    lastPing = System.currentTimeMillis();
                }
            }
        } catch (IOException | RuntimeException e) {
            log.debug("shell relay ended: {}", e.toString());
            close(1011, "relay failed");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            channel.close(); // detach, never kill
        }
    }

    private void sendText(String text) throws IOException {
        send(f -> socket.sendText(text, f));
    }

    private interface Sender { void send(Callback callback); }

    /** One frame at a time: a WebSocket must not have concurrent sends. */
    private synchronized void send(Sender sender) throws IOException {
        var done = new CompletableFuture<Void>();
        sender.send(Callback.from(() -> done.complete(null), done::completeExceptionally));
        try {
            done.get(SEND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            closed = true;
            throw new IOException("client not reading: " + e, e);
        }
    }

    @Override
    public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
        byte[] bytes = new byte[payload.remaining()];
        payload.get(bytes);
        try {
            channel.input(bytes);
            callback.succeed();
        } catch (IOException e) {
            callback.fail(e);
        }
    }

    @Override
    public void onWebSocketText(String message) {
        try {
            JsonNode msg = Json.MAPPER.readTree(message);
            if ("resize".equals(msg.path("type").asString(""))) {
                int rows = msg.path("rows").asInt(0);
                int cols = msg.path("cols").asInt(0);
                if (rows > 0 && cols > 0 && rows < 10_000 && cols < 10_000) channel.resize(rows, cols);
            }
        } catch (IOException | RuntimeException e) {
            log.debug("ignored control message: {}", e.toString());
        }
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason) {
        closed = true; // the relay thread detaches
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        closed = true;
    }

    private void close(int code, String reason) {
        closed = true;
        Session s = socket;
        if (s != null) s.close(code, reason, Callback.NOOP);
    }
}

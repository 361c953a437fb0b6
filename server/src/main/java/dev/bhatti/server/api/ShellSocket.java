package dev.bhatti.server.api;

import dev.bhatti.server.error.DomainException;
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
import dev.bhatti.server.sandbox.Activity;
import java.nio.charset.StandardCharsets;

/**
 * Relays one WebSocket to one guest session. Server to client: a text {@code {"type":"session"}}
 * message, then output (binary for terminals, text for piped sessions), then {@code {"type":"exit"}}
 * and a normal close. Client to server for terminals: binary = keystrokes, text =
 * {@code {"type":"resize","rows":R,"cols":C}}; for piped sessions every message is stdin, except the
 * first when the session is still to be started: {@code {"cmd":[...],"env":{},"max_idle_sec":N}}.
 * A closed or dropped WebSocket only detaches: the session keeps running for the next attach.
 * (Public because Jetty invokes WebSocket endpoints through a public lookup.)
 */
public final class ShellSocket implements Session.Listener.AutoDemanding {
    private static final Logger log = LoggerFactory.getLogger(ShellSocket.class);
    private static final long PING_EVERY_MILLIS = 30_000;
    private static final long SEND_TIMEOUT_SECONDS = 10;

    /** Opens the session from the client's first text message (piped sessions started over the socket). */
    interface Starter {
        SessionChannel start(JsonNode firstMessage);
    }

    private volatile SessionChannel channel;
    private final Starter starter;
    private final boolean piped;
    private volatile Session socket;
    private volatile boolean closed;
    /** Keeps the sandbox hot while a client is attached. */
    private volatile Activity.Busy busy = () -> { };

    ShellSocket keepsBusy(Activity.Busy token) {
        this.busy = token;
        return this;
    }

    /** A socket for a session that is already open. */
    ShellSocket(SessionChannel channel, boolean piped) {
        this.channel = channel;
        this.starter = null;
        this.piped = piped;
    }

    /** A piped session started by the client's first message. */
    ShellSocket(Starter starter) {
        this(starter, true);
    }

    /** A session (a terminal unless {@code piped}) opened once the client's first message is accepted. */
    ShellSocket(Starter starter, boolean piped) {
        this.channel = null;
        this.starter = starter;
        this.piped = piped;
    }

    /** Ends the connection from the server's side (the session itself is left to its owner). */
    void disconnect(String reason) {
        sendQuietly(Json.fields("type", "error", "message", reason));
        close(1008, reason);
    }

    boolean isClosed() { return closed; }

    boolean hasSession() { return channel != null; }

    @Override
    public void onWebSocketOpen(Session session) {
        this.socket = session;
        if (channel != null) Thread.ofVirtual().name("session-relay").start(this::relayOutput);
    }

    private void relayOutput() {
        try {
            sendText(Json.MAPPER.writeValueAsString(Json.fields("type", "session", "session_id", channel.session().id())));
            long lastPing = System.currentTimeMillis();
            while (!closed) {
                SessionChannel.Event e = channel.next(1_000);
                switch (e) {
                    case null -> { }
                    case SessionChannel.Output o -> {
                        if (piped) sendText(text.decode(o.bytes()));
                        else send(f -> socket.sendBinary(ByteBuffer.wrap(o.bytes()), f));
                    }
                    case SessionChannel.Exited x -> {
                        if (piped) sendText(text.finish());
                        sendText(Json.MAPPER.writeValueAsString(Json.fields("type", "exit", "exit_code", x.exitCode())));
                        close(1000, "session ended");
                        return;
                    }
                    case SessionChannel.Ended x -> {
                        sendText(Json.MAPPER.writeValueAsString(Json.fields("type", "detached", "reason", x.reason())));
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
            busy.close();
        }
    }

    private final Utf8Chunks text = new Utf8Chunks();

    private void sendText(String t) throws IOException {
        if (!t.isEmpty()) send(f -> socket.sendText(t, f));
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
        if (channel == null && starter != null) {
            startFrom(message);
            return;
        }
        if (piped) {
            try {
                channel.input(message.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                close(1011, "input failed");
            }
            return;
        }
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

    private void startFrom(String message) {
        try {
            channel = starter.start(Json.MAPPER.readTree(message));
        } catch (DomainException e) {
            sendQuietly(Json.fields("type", "error", "message", e.getMessage()));
            close(1008, "refused");
            return;
        } catch (RuntimeException e) {
            sendQuietly(Json.fields("type", "error", "message", piped ? "the first message must be {\"cmd\":[...]}" : "unauthorized"));
            close(1008, "bad first message");
            return;
        }
        Thread.ofVirtual().name("session-relay").start(this::relayOutput);
    }

    private void sendQuietly(Map<String, Object> msg) {
        try {
            sendText(Json.MAPPER.writeValueAsString(msg));
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason) {
        closed = true; // the relay thread detaches
        if (channel == null) busy.close();
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        closed = true;
        if (channel == null) busy.close();
    }

    private void close(int code, String reason) {
        closed = true;
        Session s = socket;
        if (s != null) s.close(code, reason, Callback.NOOP);
    }
}

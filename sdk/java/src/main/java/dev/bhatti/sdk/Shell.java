package dev.bhatti.sdk;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpTimeoutException;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A terminal in a sandbox over the daemon's WebSocket ({@code /sandboxes/{id}/ws}): a {@code bash -li} on a
 * pseudo-terminal. {@link #send} types, {@link #output()} is what the terminal shows, {@link #resize}
 * changes its size. Closing detaches: the shell keeps running and {@link Sandbox#shell()} reattaches to it
 * (with its scrollback); it ends when it exits ({@code exit}) or is killed ({@link Sandbox#killSession}).
 * Output waits in a bounded buffer (1 MiB): read it, or the shell is held back.
 */
public final class Shell implements AutoCloseable {
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

    private final String where;
    private final Duration sendTimeout;
    private final ShellOutput output = new ShellOutput();
    private final CompletableFuture<String> sessionId = new CompletableFuture<>();
    private final CompletableFuture<OptionalInt> ended = new CompletableFuture<>();
    private volatile Integer exitCode;
    private volatile String endReason;
    private WebSocket ws;

    private Shell(String where, Duration sendTimeout) {
        this.where = where;
        this.sendTimeout = sendTimeout;
    }

    static Shell open(Transport t, Sandbox sandbox, ShellOptions options) {
        String base = t.config.url().replaceFirst("^(?i)http", "ws");
        URI uri = URI.create(base + sandbox.path("/ws?" + options.query()));
        var shell = new Shell("sandbox " + (sandbox.name() != null ? sandbox.name() : sandbox.id()), t.requestTimeout);
        var builder = t.http.newWebSocketBuilder().connectTimeout(t.connectTimeout);
        if (t.config.token() != null) builder.header("Authorization", "Bearer " + t.config.token());
        try {
            shell.ws = builder.buildAsync(uri, shell.new Listener()).get(t.requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw refused(t, sandbox, e.getCause());
        } catch (TimeoutException e) {
            throw new ConnectionFailed("no shell from " + t.config.url() + " within " + Transport.seconds(t.requestTimeout), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionFailed("interrupted while opening a shell", e);
        }
        return shell;
    }

    /**
     * Why the upgrade failed. The JDK does not show the refusal's body, so a 4xx is explained by asking
     * for the sandbox over plain HTTP: its NotFound or AuthenticationError says it as the daemon does.
     */
    private static BhattiException refused(Transport t, Sandbox sandbox, Throwable cause) {
        if (cause instanceof WebSocketHandshakeException h && h.getResponse() != null) {
            int status = h.getResponse().statusCode();
            if (status == 401 || status == 403 || status == 404) {
                try {
                    t.call("GET", sandbox.path(""), null);
                } catch (BhattiException why) {
                    return why;
                }
            }
            byte[] body = h.getResponse().body() instanceof byte[] b ? b : new byte[0];
            String message = body.length > 0 ? Errors.message(status, body) : "the daemon refused a shell in " + sandbox + " (HTTP " + status + ")";
            return Errors.of(status, message, Errors.retryAfter(h.getResponse().headers().firstValue("Retry-After").orElse(null)));
        }
        if (cause instanceof HttpTimeoutException) {
            return new ConnectionFailed("cannot reach the bhatti daemon at " + t.config.url() + ": no connection within " + Transport.seconds(t.connectTimeout), cause);
        }
        if (cause instanceof ConnectException) return new ConnectionFailed("cannot reach the bhatti daemon at " + t.config.url() + " (" + Transport.describe(cause) + ")", cause);
        return new ConnectionFailed("could not open a shell at " + t.config.url() + ": " + Transport.describe(cause), cause);
    }

    /** The session's id (the daemon's first message; waits for it up to the request timeout). */
    public String sessionId() {
        try {
            return sessionId.get(sendTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new ConnectionFailed("the shell ended before it said its session: " + Transport.describe(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            throw new ConnectionFailed("the daemon did not say the shell's session within " + Transport.seconds(sendTimeout), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionFailed("interrupted", e);
        }
    }

    /** Types {@code text} (UTF-8): {@code send("ls -l\n")}. */
    public void send(String text) { send(Validate.notNull("text", text).getBytes(StandardCharsets.UTF_8)); }

    /** Sends raw bytes to the terminal (control keys: {@code 0x03} is Ctrl+C). */
    public synchronized void send(byte[] bytes) {
        Validate.notNull("bytes", bytes);
        if (bytes.length == 0) return;
        await(ws.sendBinary(ByteBuffer.wrap(bytes.clone()), true), "sending to the shell");
    }

    /** Changes the terminal's size (the shell gets SIGWINCH). */
    public synchronized void resize(int rows, int cols) {
        Validate.range("rows", rows, 1, 9999);
        Validate.range("cols", cols, 1, 9999);
        await(ws.sendText("{\"type\":\"resize\",\"rows\":" + rows + ",\"cols\":" + cols + "}", true), "resizing the shell");
    }

    private void await(CompletableFuture<WebSocket> sent, String what) {
        if (ended.isDone() || ws.isOutputClosed()) throw new ConnectionFailed(what + ": the shell's connection is closed" + reason(), null);
        try {
            sent.get(sendTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new ConnectionFailed(what + " failed: " + Transport.describe(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            throw new ConnectionFailed(what + ": not taken within " + Transport.seconds(sendTimeout), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionFailed("interrupted while " + what, e);
        }
    }

    /** What the terminal shows, as it comes; it ends when the shell exits or the connection closes. */
    public InputStream output() { return output; }

    /**
     * Reads output until it holds {@code text}, and returns all it read (which ends at or after {@code text}).
     *
     * @throws TimeoutException if {@code text} did not come within {@code timeout} (the message has what did)
     * @throws ConnectionFailed if the output ended before it
     */
    public String readUntil(String text, Duration timeout) throws TimeoutException {
        Validate.notNull("text", text);
        Validate.positive("timeout", timeout, Duration.ofDays(365));
        long deadline = System.nanoTime() + timeout.toNanos();
        var seen = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        while (true) {
            String sofar = seen.toString(StandardCharsets.UTF_8);
            if (sofar.contains(text)) return sofar;
            int n;
            try {
                n = output.read(buf, 0, buf.length, deadline);
            } catch (IOException e) {
                throw new ConnectionFailed(e.getMessage() + "; before " + Validate.printable(text) + " appeared", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConnectionFailed("interrupted while reading the shell's output", e);
            }
            if (n < 0) throw new ConnectionFailed("the shell's output ended" + reason() + " before " + Validate.printable(text) + " appeared; it showed: " + tail(sofar), null);
            if (n == 0) throw new TimeoutException(Validate.printable(text) + " did not appear within " + timeout + "; the shell showed: " + tail(sofar));
            seen.write(buf, 0, n);
        }
    }

    /**
     * Waits for the connection to end: the shell's exit code when it exited, empty when the connection
     * ended without that (detached by another client, or closed).
     *
     * @throws TimeoutException if it did not end within {@code timeout}
     * @throws ConnectionFailed if the connection broke
     */
    public OptionalInt awaitExit(Duration timeout) throws TimeoutException {
        Validate.positive("timeout", timeout, Duration.ofDays(365));
        try {
            return ended.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new ConnectionFailed("the shell's connection broke: " + Transport.describe(e.getCause()), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionFailed("interrupted while waiting for the shell", e);
        }
    }

    /** The shell's exit code once it has exited. */
    public OptionalInt exitCode() { return exitCode == null ? OptionalInt.empty() : OptionalInt.of(exitCode); }

    /** Whether the connection has ended. */
    public boolean isClosed() { return ended.isDone(); }

    /** Detaches: the connection closes, the shell keeps running for the next attach. */
    @Override
    public void close() {
        if (!ended.isDone() && !ws.isOutputClosed()) {
            try {
                ws.sendClose(WebSocket.NORMAL_CLOSURE, "detach").get(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                ended.get(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                // the socket is aborted below either way
            }
        }
        ws.abort();
        output.end(null);
        ended.complete(exitCode());
    }

    private String reason() { return endReason == null ? "" : " (" + endReason + ")"; }

    private static String tail(String s) {
        String t = s.length() > 400 ? "..." + s.substring(s.length() - 400) : s;
        return Validate.printable(t.replace("\r", "")).replace("\\u000a", "\n");
    }

    /** The daemon's messages: binary is terminal output; text is control ({@code session}, {@code exit}, {@code detached}, {@code error}). */
    private final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();

        @Override
        public void onOpen(WebSocket socket) { socket.request(1); }

        @Override
        public CompletionStage<?> onBinary(WebSocket socket, ByteBuffer data, boolean last) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            if (output.add(b, () -> socket.request(1))) socket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                control(text.toString());
                text.setLength(0);
            }
            socket.request(1);
            return null;
        }

        private void control(String message) {
            JsonNode msg;
            try {
                msg = Json.MAPPER.readTree(message);
            } catch (JacksonException e) {
                return; // not a control message of this API: nothing to act on
            }
            switch (msg.path("type").asString("")) {
                case "session" -> sessionId.complete(msg.path("session_id").asString(""));
                case "exit" -> exitCode = msg.path("exit_code").asInt(-1);
                case "detached" -> endReason = msg.path("reason").asString("detached");
                case "error" -> endReason = msg.path("message").asString("refused");
                default -> { }
            }
        }

        @Override
        public CompletionStage<?> onClose(WebSocket socket, int status, String reason) {
            if (endReason == null && exitCode == null && !reason.isEmpty()) endReason = reason;
            output.end(null);
            sessionId.completeExceptionally(new IOException("closed" + reason()));
            ended.complete(exitCode());
            return null;
        }

        @Override
        public void onError(WebSocket socket, Throwable error) {
            output.end(error);
            sessionId.completeExceptionally(error);
            ended.completeExceptionally(error);
        }
    }

    @Override
    public String toString() { return "Shell[" + where + ", session=" + sessionId.getNow("?") + "]"; }

}

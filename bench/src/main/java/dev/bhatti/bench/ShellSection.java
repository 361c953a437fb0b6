package dev.bhatti.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The interactive shell over WebSocket ({@code GET /sandboxes/{id}/ws}), as {@code bhatti shell} uses it:
 * the time from opening a shell to its first output (the prompt), and keystroke echo, one key sent and
 * its echo awaited. The floor for echo is the bare agent's ping round trip (the channel alone).
 */
final class ShellSection implements Section {
    static final String SECTION = "shell";
    static final String OPEN = "open shell to prompt (WebSocket)";
    static final String ECHO = "shell keystroke echo (WebSocket)";
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** A key that neither the prompt nor the line editor's redraws print (names are hex and "bench"). */
    private static final String KEY = "z";
    private static final String KILL_LINE = "\u0015";

    @Override public String title() { return "interactive shell over WebSocket"; }

    @Override
    public void run(Context ctx) throws Exception {
        Options o = ctx.opt();
        Results r = ctx.results();
        Samples open = r.add(SECTION, OPEN, null);
        Samples echo = r.add(SECTION, ECHO, ctx.bare == null ? null : FloorSection.PING);
        for (int i = 0; i < o.nShells; i++) {
            long t0 = System.nanoTime();
            try (var shell = Shell.open(ctx.api(), ctx.mainId)) {
                shell.awaitOutput(0, s -> !s.isEmpty());
                open.add(System.nanoTime() - t0);
                if (i > 0) continue;
                shell.quiet(Duration.ofMillis(300)); // the rest of the prompt
                for (int k = 0; k < o.nKeys; k++) {
                    int mark = shell.length();
                    long sent = System.nanoTime();
                    shell.type(KEY);
                    shell.awaitOutput(mark, s -> s.contains(KEY));
                    echo.add(System.nanoTime() - sent);
                    if (k % 40 == 39) { // keep the line short: no wrapping, no redraw of the whole line
                        shell.type(KILL_LINE);
                        shell.quiet(Duration.ofMillis(200));
                    }
                }
            }
        }
        r.print(SECTION);
    }

    /** One shell session on a WebSocket, its output collected as text. Closing it ends the shell. */
    private static final class Shell implements WebSocket.Listener, AutoCloseable {
        private final StringBuilder out = new StringBuilder();
        private final CompletableFuture<Void> closed = new CompletableFuture<>();
        private WebSocket ws;
        private long lastOutput = System.nanoTime();

        static Shell open(Api api, String sandboxId) throws Exception {
            var shell = new Shell();
            URI uri = URI.create(api.url().replaceFirst("^http", "ws") + "/sandboxes/" + sandboxId + "/ws?rows=24&cols=200");
            shell.ws = HttpClient.newHttpClient().newWebSocketBuilder()
                    .header("Authorization", "Bearer " + api.token())
                    .connectTimeout(Duration.ofSeconds(10))
                    .buildAsync(uri, shell).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            return shell;
        }

        void type(String keys) throws Exception {
            ws.sendBinary(ByteBuffer.wrap(keys.getBytes(StandardCharsets.UTF_8)), true).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }

        synchronized int length() { return out.length(); }

        /** Waits until the output after {@code from} satisfies {@code done}. */
        synchronized void awaitOutput(int from, Predicate<String> done) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!done.test(out.substring(from))) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || closed.isDone()) {
                    throw new BenchFailure("shell: no expected output within " + WAIT.toSeconds() + " s; got: "
                            + out.substring(from).replaceAll("\\p{Cntrl}", "."));
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }

        /** Waits until no output has come for {@code gap}. */
        synchronized void quiet(Duration gap) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() - lastOutput < gap.toNanos() && System.nanoTime() < deadline) {
                TimeUnit.NANOSECONDS.timedWait(this, gap.toNanos());
            }
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket socket, ByteBuffer data, boolean last) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            synchronized (this) {
                out.append(new String(b, StandardCharsets.ISO_8859_1)); // a byte per char: echo never splits a key
                lastOutput = System.nanoTime();
                notifyAll();
            }
            socket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            socket.request(1); // control messages: the session id, the exit
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket socket, int status, String reason) {
            synchronized (this) {
                closed.complete(null);
                notifyAll();
            }
            return null;
        }

        @Override
        public void onError(WebSocket socket, Throwable error) {
            synchronized (this) {
                closed.completeExceptionally(error);
                notifyAll();
            }
        }

        /** Ends the shell (exit), so that no detached session is left behind, then waits for the close. */
        @Override
        public void close() throws Exception {
            try {
                if (!closed.isDone()) {
                    type(KILL_LINE + "exit\r");
                    closed.handle((v, e) -> null).get(10, TimeUnit.SECONDS);
                }
            } finally {
                ws.abort();
            }
        }
    }
}

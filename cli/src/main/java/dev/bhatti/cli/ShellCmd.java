package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;

/**
 * An interactive shell in a sandbox over WebSocket. The terminal is put in raw mode; Ctrl+\ detaches
 * and leaves the shell running; {@code bhatti shell} again reattaches and replays its scrollback.
 */
@Command(name = "shell", aliases = "sh", description = "Open an interactive shell in a sandbox (Ctrl+\\ detaches).",
        mixinStandardHelpOptions = true)
final class ShellCmd implements Callable<Integer> {
    static final byte DETACH_KEY = 0x1c; // Ctrl+\

    @Mixin ClientOptions opts;
    @Parameters(paramLabel = "SANDBOX", description = "Name or id") String sandbox;
    @Option(names = "--new", description = "Start a new shell instead of reattaching to a detached one") boolean fresh;
    @Option(names = "--session", description = "Attach to this session id (see bhatti ps)") String session;

    private final CompletableFuture<Integer> done = new CompletableFuture<>();
    private volatile String sessionId = "?";

    @Override
    public Integer call() throws Exception {
        CliConfig config = opts.client().config();
        boolean terminal = System.console() != null && System.console().isTerminal();
        int[] size = terminal ? Terminal.size() : new int[]{24, 80};
        var url = new StringBuilder(config.url().replaceFirst("^http", "ws"))
                .append("/sandboxes/").append(ApiClient.segment(sandbox)).append("/ws?rows=").append(size[0]).append("&cols=").append(size[1]);
        if (fresh) url.append("&new=true");
        if (session != null) url.append("&session=").append(ApiClient.segment(session));
        var builder = HttpClient.newHttpClient().newWebSocketBuilder();
        if (config.token() != null) builder.header("Authorization", "Bearer " + config.token());
        WebSocket ws;
        try {
            ws = builder.buildAsync(URI.create(url.toString()), new Listener()).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new CliException(opts.client().explainFailedUpgrade(e.getCause(), "/sandboxes/" + ApiClient.segment(sandbox)));
        }
        String saved = terminal ? Terminal.raw() : null;
        try {
            if (terminal) Terminal.onResize(() -> sendResize(ws));
            Thread input = Thread.ofPlatform().daemon().name("shell-input").start(() -> pumpInput(ws));
            int code = done.get();
            input.interrupt();
            return code;
        } finally {
            if (saved != null) Terminal.restore(saved);
        }
    }

    private void sendResize(WebSocket ws) {
        int[] s = Terminal.size();
        ws.sendText("{\"type\":\"resize\",\"rows\":" + s[0] + ",\"cols\":" + s[1] + "}", true);
    }

    private void pumpInput(WebSocket ws) {
        byte[] buf = new byte[4096];
        InputStream in = System.in;
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                int detachAt = indexOf(buf, n, DETACH_KEY);
                int send = detachAt >= 0 ? detachAt : n;
                if (send > 0) ws.sendBinary(ByteBuffer.wrap(buf, 0, send), true).get(30, TimeUnit.SECONDS);
                if (detachAt >= 0) {
                    ws.sendClose(WebSocket.NORMAL_CLOSURE, "detach").get(5, TimeUnit.SECONDS);
                    System.err.print("\r\n[detached from session " + sessionId + "; reattach with: bhatti shell " + sandbox + "]\r\n");
                    done.complete(0);
                    return;
                }
            }
            // stdin ended (e.g. a script piped in): leave the session to finish on its own output
        } catch (Exception e) {
            if (!done.isDone()) System.err.print("\r\n[input failed: " + e.getMessage() + "]\r\n");
        }
    }

    private static int indexOf(byte[] b, int n, byte v) {
        for (int i = 0; i < n; i++) if (b[i] == v) return i;
        return -1;
    }

    /** Output to stdout as it comes; control messages as JSON text. */
    private final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            System.out.write(b, 0, b.length);
            System.out.flush();
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                JsonNode msg = ApiClient.JSON.readTree(text.toString());
                text.setLength(0);
                switch (msg.path("type").asString("")) {
                    case "session" -> sessionId = msg.path("session_id").asString("?");
                    case "exit" -> done.complete(msg.path("exit_code").asInt(0));
                    case "detached" -> {
                        System.err.print("\r\n[" + msg.path("reason").asString("detached") + "]\r\n");
                        done.complete(0);
                    }
                    default -> { }
                }
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            if (!done.isDone()) {
                System.err.print("\r\n[connection closed (" + status + (reason.isEmpty() ? "" : ": " + reason)
                        + "); the shell keeps running: bhatti shell " + sandbox + "]\r\n");
                done.complete(0);
            }
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            if (!done.isDone()) {
                System.err.print("\r\n[connection lost: " + error.getMessage() + "; the shell keeps running: bhatti shell "
                        + sandbox + " --session " + sessionId + "]\r\n");
                done.complete(1);
            }
        }
    }

    /** The controlling terminal through stty (the JDK has no termios). */
    static final class Terminal {
        private Terminal() {}

        static int[] size() {
            try {
                String[] p = stty("size").strip().split("\\s+");
                return new int[]{Integer.parseInt(p[0]), Integer.parseInt(p[1])};
            } catch (IOException | RuntimeException e) {
                return new int[]{24, 80};
            }
        }

        static String raw() throws IOException {
            String saved = stty("-g").strip();
            stty("raw", "-echo");
            return saved;
        }

        static void restore(String saved) {
            try {
                stty(saved);
            } catch (IOException e) {
                System.err.println("could not restore the terminal; run: stty sane");
            }
        }

        @SuppressWarnings("removal")
        static void onResize(Runnable action) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal("WINCH"), s -> action.run());
            } catch (IllegalArgumentException | LinkageError e) {
                // no SIGWINCH here: the size stays as it was at start
            }
        }

        private static String stty(String... args) throws IOException {
            var cmd = new ArrayList<String>(List.of("stty"));
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/tty")))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            try {
                if (p.waitFor() != 0) throw new IOException("stty " + String.join(" ", args) + " failed");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
            return out;
        }
    }
}

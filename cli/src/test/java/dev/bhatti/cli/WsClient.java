package dev.bhatti.cli;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/** A test WebSocket client that records everything the server sends. */
final class WsClient implements WebSocket.Listener {
    final StringBuffer output = new StringBuffer();
    final StringBuffer control = new StringBuffer();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final StringBuilder text = new StringBuilder();
    WebSocket ws;

    static WsClient connect(String url, String key) throws Exception {
        var client = new WsClient();
        client.ws = HttpClient.newHttpClient().newWebSocketBuilder().header("Authorization", "Bearer " + key)
                .connectTimeout(Duration.ofSeconds(30))
                .buildAsync(URI.create(url), client).get(60, TimeUnit.SECONDS);
        return client;
    }

    void type(String keys) throws Exception {
        ws.sendBinary(ByteBuffer.wrap(keys.getBytes(StandardCharsets.UTF_8)), true).get(10, TimeUnit.SECONDS);
    }

    void awaitOutput(String expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!output.toString().contains(expected)) {
            if (System.nanoTime() > deadline) throw new AssertionError("never saw '" + expected + "' in:\n" + output);
            Thread.sleep(50);
        }
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
        byte[] b = new byte[data.remaining()];
        data.get(b);
        output.append(new String(b, StandardCharsets.UTF_8));
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        text.append(data);
        if (last) {
            control.append(text).append('\n');
            text.setLength(0);
        }
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
        closed.complete(status);
        return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
        closed.complete(-1);
    }
}

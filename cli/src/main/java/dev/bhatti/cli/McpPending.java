package dev.bhatti.cli;

import tools.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.function.Consumer;

/**
 * The requests {@code bhatti mcp} has read and not answered yet, counted on the stdio streams themselves
 * (one JSON-RPC message a line). The server ends when its input has ended and every request read is answered
 * (the SDK is shown the end of its input only then):
 * a client that writes its requests and closes stdin ({@code bhatti mcp < calls.jsonl}) gets every answer,
 * and one that closes stdin with nothing pending sees the server exit at once.
 */
final class McpPending {
    private long requests;
    private long responses;
    private boolean inputEnded;

    /** Stdin, counting the requests read and noticing its end (or failure). */
    InputStream input(InputStream in) {
        var lines = new Lines(line -> {
            if (line.has("method") && line.has("id")) changed(() -> requests++);
        });
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xFF;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n;
                try {
                    n = super.read(b, off, len);
                } catch (IOException e) {
                    changed(() -> inputEnded = true);
                    throw e;
                }
                if (n >= 0) {
                    lines.add(b, off, n);
                    return n;
                }
                // the SDK closes the session when it sees the end, dropping answers not yet written: it sees it once they are
                changed(() -> inputEnded = true);
                try {
                    awaitQuiet();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return -1;
            }
        };
    }

    /** Stdout, counting the answers written. */
    OutputStream output(OutputStream out) {
        var lines = new Lines(line -> {
            if (line.has("id") && !line.has("method")) changed(() -> responses++);
        });
        return new FilterOutputStream(out) {
            @Override
            public void write(int b) throws IOException { write(new byte[] {(byte) b}, 0, 1); }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
                lines.add(b, off, len);
            }
        };
    }

    /** Blocks until the input has ended and every request read has its answer written. */
    synchronized void awaitQuiet() throws InterruptedException {
        while (!inputEnded || responses < requests) wait();
    }

    private synchronized void changed(Runnable change) {
        change.run();
        notifyAll();
    }

    /** Splits bytes into lines and hands each one that is a JSON object on. */
    private static final class Lines {
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private final Consumer<JsonNode> onMessage;

        Lines(Consumer<JsonNode> onMessage) { this.onMessage = onMessage; }

        synchronized void add(byte[] b, int off, int len) {
            int start = off;
            for (int i = off; i < off + len; i++) {
                if (b[i] != '\n') continue;
                line.write(b, start, i - start);
                message(line.toByteArray());
                line.reset();
                start = i + 1;
            }
            line.write(b, start, off + len - start);
        }

        private void message(byte[] bytes) {
            JsonNode node;
            try {
                node = ApiClient.JSON.readTree(bytes);
            } catch (RuntimeException e) {
                return; // not JSON: the SDK answers it with a parse error, or not at all; either way nothing to wait for
            }
            if (node != null && node.isObject()) onMessage.accept(node);
        }
    }
}

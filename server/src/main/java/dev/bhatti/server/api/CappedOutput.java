package dev.bhatti.server.api;

import dev.bhatti.engine.ExecListener;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Collects a command's output for a buffered reply, keeping at most {@code limit} bytes in all. */
final class CappedOutput implements ExecListener {
    private final int limit;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private boolean truncated;

    CappedOutput(int limit) { this.limit = limit; }

    @Override public void stdout(byte[] b) { keep(out, b); }

    @Override public void stderr(byte[] b) { keep(err, b); }

    private void keep(ByteArrayOutputStream to, byte[] b) {
        int room = limit - out.size() - err.size();
        if (b.length > room) truncated = true;
        to.write(b, 0, Math.max(0, Math.min(room, b.length)));
    }

    String stdout() { return out.toString(StandardCharsets.UTF_8); }

    String stderr() {
        String s = err.toString(StandardCharsets.UTF_8);
        return truncated ? s + "\n[output truncated at " + (limit / (1024 * 1024)) + "MB]" : s;
    }

    boolean truncated() { return truncated; }
}

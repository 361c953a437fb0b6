package dev.bhatti.sdk;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * A terminal's output between the WebSocket and its reader. The socket is asked for more only while
 * less than {@link #LIMIT} waits unread: a reader that stops reading holds the shell back (the daemon
 * stops relaying), instead of this buffer growing without bound.
 */
final class ShellOutput extends InputStream {
    static final int LIMIT = 1024 * 1024;

    private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
    private int offset;
    private long pending;
    private boolean ended;
    private Throwable error;
    private Runnable resume;

    /** Adds output; false when the buffer is full, and {@code resume} is run once the reader has taken half of it. */
    synchronized boolean add(byte[] bytes, Runnable resume) {
        if (bytes.length > 0) {
            chunks.add(bytes);
            pending += bytes.length;
            notifyAll();
        }
        if (pending < LIMIT) return true;
        this.resume = resume;
        return false;
    }

    /** No more output: the reader gets the rest, then the end (or {@code error} as an IOException). */
    synchronized void end(Throwable error) {
        if (ended) return;
        ended = true;
        this.error = error;
        notifyAll();
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        try {
            return read(b, off, len, Long.MAX_VALUE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for the shell's output");
        }
    }

    /** Like {@link #read(byte[], int, int)}, waiting until {@code deadline} (System.nanoTime) at most: 0 when nothing came. */
    int read(byte[] b, int off, int len, long deadline) throws IOException, InterruptedException {
        if (len == 0) return 0;
        Runnable toRun = null;
        int n;
        synchronized (this) {
            while (chunks.isEmpty() && !ended) {
                long left = deadline == Long.MAX_VALUE ? Long.MAX_VALUE : deadline - System.nanoTime();
                if (left <= 0) return 0;
                if (left == Long.MAX_VALUE) wait();
                else TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            if (chunks.isEmpty()) {
                if (error != null) throw new IOException("the shell's connection broke: " + Transport.describe(error), error);
                return -1;
            }
            byte[] head = chunks.peek();
            n = Math.min(len, head.length - offset);
            System.arraycopy(head, offset, b, off, n);
            offset += n;
            if (offset == head.length) {
                chunks.poll();
                offset = 0;
            }
            pending -= n;
            if (resume != null && pending <= LIMIT / 2) {
                toRun = resume;
                resume = null;
            }
        }
        if (toRun != null) toRun.run();
        return n;
    }

    @Override
    public synchronized int available() { return (int) Math.min(Integer.MAX_VALUE, pending); }
}

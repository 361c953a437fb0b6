package dev.bhatti.agent;

/** The last {@code capacity} bytes of a session's output, replayed to a client that attaches. */
final class Scrollback {
    private final byte[] ring;
    private int start;
    private int size;

    Scrollback(int capacity) { this.ring = new byte[capacity]; }

    synchronized void add(byte[] b, int off, int len) {
        if (len >= ring.length) { // only the tail fits
            System.arraycopy(b, off + len - ring.length, ring, 0, ring.length);
            start = 0;
            size = ring.length;
            return;
        }
        for (int i = 0; i < len; i++) {
            ring[(start + size) % ring.length] = b[off + i];
            if (size < ring.length) size++; else start = (start + 1) % ring.length;
        }
    }

    synchronized byte[] snapshot() {
        byte[] out = new byte[size];
        for (int i = 0; i < size; i++) out[i] = ring[(start + i) % ring.length];
        return out;
    }
}

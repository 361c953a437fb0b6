package dev.bhatti.agent;

import dev.bhatti.protocol.PeerHangupException;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;

/**
 * The reading side of the agent's virtio-serial port. The port reads end-of-file whenever the guest
 * believes no host is connected: after the host went (daemon restart, restore), and also for a moment at
 * boot, before the guest has processed QEMU's "host connected" event although the host is there and
 * already reading. Neither is an end: the first end-of-file is reported once as a
 * {@link PeerHangupException} (so a frame cut off by a departed host is dropped), and the reads after it
 * wait until bytes come, polling, since the port's poll() reports a hangup at once rather than waiting.
 */
final class HostPortInput extends InputStream {
    private static final long FIRST_WAIT_MS = 5;
    private static final long LONGEST_WAIT_MS = 100;

    private final InputStream port;
    private boolean hangupReported;

    HostPortInput(InputStream port) { this.port = port; }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        read(one, 0, 1);
        return one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) return 0;
        long wait = FIRST_WAIT_MS;
        while (true) {
            int n = port.read(b, off, len);
            if (n > 0) {
                hangupReported = false;
                return n;
            }
            if (!hangupReported) {
                hangupReported = true;
                Log.info("the port reads end-of-file: no host, or not yet known to be there");
                throw new PeerHangupException();
            }
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for a host");
            }
            wait = Math.min(wait * 2, LONGEST_WAIT_MS);
        }
    }

    @Override
    public void close() throws IOException { port.close(); }
}

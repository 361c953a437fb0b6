package dev.bhatti.protocol;

import java.io.IOException;

/**
 * The other end of a byte stream went away, but the stream itself stays usable: the next peer writes
 * into the same one. A virtio-serial port reads this way when the host disconnects (and, for a moment
 * at boot, before the guest has heard that the host is there). Thrown by the reading side's stream;
 * the agent's connection drops the frame it was in the middle of and goes on reading.
 */
public final class PeerHangupException extends IOException {
    public PeerHangupException() {
        super("the peer hung up");
    }
}

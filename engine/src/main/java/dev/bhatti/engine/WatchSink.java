package dev.bhatti.engine;

import java.io.IOException;

/**
 * Receives a file watch: the watched path's metadata first, then events as JSON lines (each piece ends
 * with a newline), and a call to {@link #idle} whenever about a second passes without one. Returning
 * false or throwing ends the watch (a throw is the client going away, not a failure).
 */
public interface WatchSink {
    void begin(GuestFile root) throws IOException;

    boolean events(byte[] lines) throws IOException;

    boolean idle() throws IOException;
}

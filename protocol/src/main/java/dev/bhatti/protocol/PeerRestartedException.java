package dev.bhatti.protocol;

import java.io.IOException;

/**
 * The agent said hello again on a connection that stayed up (it restarted, or it opened its port anew):
 * the streams open at that moment are lost, and the connection itself goes on with the new agent.
 */
public final class PeerRestartedException extends IOException {
    public PeerRestartedException(String message) {
        super(message);
    }

    /** Whether {@code e} is, or was caused by, a peer restart. */
    public static boolean isCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof PeerRestartedException) return true;
        }
        return false;
    }
}

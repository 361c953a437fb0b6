package dev.bhatti.protocol;

import java.io.IOException;

/** The peer sent bytes that do not follow the protocol. The connection cannot be trusted after it. */
public class ProtocolException extends IOException {
    public ProtocolException(String message) { super(message); }
}

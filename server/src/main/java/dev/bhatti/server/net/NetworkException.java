package dev.bhatti.server.net;

/** A host networking command failed; the message says which and why. */
public final class NetworkException extends Exception {
    public NetworkException(String message) { super(message); }
}

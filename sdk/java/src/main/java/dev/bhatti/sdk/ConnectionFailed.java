package dev.bhatti.sdk;

/**
 * No complete answer: the daemon could not be reached, did not answer in time, or went away mid-answer
 * (a stream that ended before its last event included). Whether the request took effect is unknown.
 */
public final class ConnectionFailed extends BhattiException {
    ConnectionFailed(String message, Throwable cause) { super(message, 0, cause); }
}

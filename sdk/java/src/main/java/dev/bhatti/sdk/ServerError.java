package dev.bhatti.sdk;

/**
 * 5xx: the daemon failed (its log has the request id); also a failure it reported in the middle of a
 * streamed exec ({@code {"type":"error"}}, status 0), or an answer that was not what the API promises.
 */
public final class ServerError extends BhattiException {
    ServerError(String message, int status) { super(message, status, null); }
}

package dev.bhatti.sdk;

/**
 * Anything the client could not do, by kind: the daemon's refusals by HTTP status ({@link InvalidRequest} 400,
 * {@link AuthenticationError} 401, {@link Forbidden} 403, {@link NotFound} 404, {@link Conflict} 409,
 * {@link RateLimited} 429, {@link ServerError} 5xx) and {@link ConnectionFailed} when no complete answer came.
 * The message is the daemon's own ({@code {"error": "..."}}) where it gave one. Unchecked, so that a
 * switch over the sealed kinds is exhaustive and lambdas stay plain.
 */
public abstract sealed class BhattiException extends RuntimeException
        permits InvalidRequest, AuthenticationError, Forbidden, NotFound, Conflict, RateLimited, ServerError, ConnectionFailed {

    private final int status;

    BhattiException(String message, int status, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** The HTTP status of the answer; 0 when none came (or when a stream that had begun failed mid-way). */
    public int status() { return status; }
}

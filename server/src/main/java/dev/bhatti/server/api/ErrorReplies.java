package dev.bhatti.server.api;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.store.StoreException;

import java.util.Optional;

/** The one place where a refusal or failure of the daemon becomes an HTTP status (and a Retry-After). */
public final class ErrorReplies {

    /** What the client is told: a status, the message, and seconds to wait if waiting helps. */
    public record ErrorReply(int status, String message, Optional<Long> retryAfterSeconds) {}

    /** Seconds a client waits before retrying when the database is unavailable. */
    static final long STORE_RETRY_SECONDS = 5;

    private ErrorReplies() {}

    public static int status(DomainException e) {
        return switch (e) {
            case DomainException.Invalid x -> 400;
            case DomainException.Unauthorized x -> 401;
            case DomainException.Forbidden x -> 403;
            case DomainException.NotFound x -> 404;
            case DomainException.NotAllowed x -> 405;
            case DomainException.Conflict x -> 409;
            case DomainException.TooLarge x -> 413;
            case DomainException.LimitReached x -> 429;
            case DomainException.RateLimited x -> 429;
            case DomainException.Failed x -> 500;
            case DomainException.SandboxFailed x -> 502;
            case DomainException.Unavailable x -> 503;
        };
    }

    public static ErrorReply of(DomainException e) {
        Optional<Long> retry = e instanceof DomainException.RateLimited r ? Optional.of(r.retryAfterSeconds()) : Optional.empty();
        return new ErrorReply(status(e), e.getMessage(), retry);
    }

    public static ErrorReply of(StoreException e) {
        return new ErrorReply(503, "the database is unavailable (" + e.getMessage() + "); try again shortly", Optional.of(STORE_RETRY_SECONDS));
    }
}

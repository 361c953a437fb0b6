package dev.bhatti.server.error;

/**
 * What the daemon's services refuse or fail with, in their own terms. The message is for the user and
 * says what to do next; only the API's edge ({@code api.ErrorReplies}) turns a kind into a status code.
 */
public abstract sealed class DomainException extends RuntimeException {

    DomainException(String message) { super(message); }

    /** The request is malformed or asks for what cannot be (a bad name, an unknown image). */
    public static final class Invalid extends DomainException { Invalid(String m) { super(m); } }

    /** A body or file beyond what is accepted. */
    public static final class TooLarge extends DomainException { TooLarge(String m) { super(m); } }

    /** Nothing of that name that this user may see. */
    public static final class NotFound extends DomainException { NotFound(String m) { super(m); } }

    /** The resource is in a state that does not allow this (not running, a name taken...). */
    public static final class Conflict extends DomainException { Conflict(String m) { super(m); } }

    /** The resource does not offer this operation. */
    public static final class NotAllowed extends DomainException { NotAllowed(String m) { super(m); } }

    /** No valid credentials. */
    public static final class Unauthorized extends DomainException { Unauthorized(String m) { super(m); } }

    /** Valid credentials that do not allow this (a user's key on an admin-only route). */
    public static final class Forbidden extends DomainException { Forbidden(String m) { super(m); } }

    /** A quota of the user's is used up: it passes once something is freed, not by waiting. */
    public static final class LimitReached extends DomainException { LimitReached(String m) { super(m); } }

    /** Too many requests in a while: the same request passes after {@link #retryAfterSeconds}. */
    public static final class RateLimited extends DomainException {
        private final long retryAfterSeconds;

        RateLimited(String m, long retryAfterSeconds) {
            super(m);
            this.retryAfterSeconds = retryAfterSeconds;
        }

        public long retryAfterSeconds() { return retryAfterSeconds; }
    }

    /** A host resource is exhausted for now (addresses of a network). */
    public static final class Unavailable extends DomainException { Unavailable(String m) { super(m); } }

    /** The sandbox itself failed (its VM or its agent), not the request. */
    public static final class SandboxFailed extends DomainException { SandboxFailed(String m) { super(m); } }

    /** The host failed to do what it should have been able to do. */
    public static final class Failed extends DomainException { Failed(String m) { super(m); } }

    public static Invalid invalid(String message) { return new Invalid(message); }
    public static TooLarge tooLarge(String message) { return new TooLarge(message); }
    public static NotFound notFound(String message) { return new NotFound(message); }
    public static Conflict conflict(String message) { return new Conflict(message); }
    public static NotAllowed notAllowed(String message) { return new NotAllowed(message); }
    public static Unauthorized unauthorized(String message) { return new Unauthorized(message); }
    public static Forbidden forbidden(String message) { return new Forbidden(message); }
    public static LimitReached limitReached(String message) { return new LimitReached(message); }
    public static RateLimited rateLimited(String message, long retryAfterSeconds) { return new RateLimited(message, retryAfterSeconds); }
    public static Unavailable unavailable(String message) { return new Unavailable(message); }
    public static SandboxFailed sandboxFailed(String message) { return new SandboxFailed(message); }
    public static Failed failed(String message) { return new Failed(message); }
}

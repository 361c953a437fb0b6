package dev.bhatti.server.image.registry;

/** A pull that cannot go on; {@link #kind} says whose fault it is and what the user can do. */
public final class RegistryException extends Exception {

    public enum Kind {
        /** No such repository, tag, digest or platform. */
        NOT_FOUND,
        /** The registry refused the credentials (or asked for some and got none). */
        UNAUTHORIZED,
        /** The registry answered something that is not a valid image (a bad manifest, a blob whose digest differs). */
        INVALID,
        /** The registry could not be reached or broke off. A retry resumes. */
        FAILED
    }

    private final Kind kind;

    public RegistryException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public RegistryException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() { return kind; }
}

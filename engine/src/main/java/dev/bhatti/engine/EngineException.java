package dev.bhatti.engine;

/** An engine operation failed; {@link #kind} tells the caller how to answer its own caller. */
public class EngineException extends Exception {

    public enum Kind {
        /** The request cannot work as asked (bad argument, missing image). */
        INVALID,
        /** No such VM. */
        NOT_FOUND,
        /** The VM exists but is not in a state that allows this. */
        NOT_RUNNING,
        /** Something named in the guest (a path, a session) does not exist. */
        MISSING,
        /** It exists but does not allow this (a directory where a file was meant, a session in use...). */
        CONFLICT,
        /** The host or the guest failed. */
        FAILED
    }

    private final Kind kind;

    public EngineException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public EngineException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() { return kind; }
}

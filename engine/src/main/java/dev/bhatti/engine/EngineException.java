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
        /** A path in the guest does not exist. */
        NO_SUCH_FILE,
        /** A path in the guest exists but is the wrong kind (a directory where a file was meant...). */
        WRONG_FILE_TYPE,
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

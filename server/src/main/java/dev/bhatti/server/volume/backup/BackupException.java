package dev.bhatti.server.volume.backup;

/** A backup operation that did not happen; {@link #kind} says whose fault, the message what and where. */
public final class BackupException extends RuntimeException {

    public enum Kind {
        /** No such backup (or volume in the store) for this user, or a name that cannot be one. */
        NOT_FOUND,
        /** The store cannot be reached or refuses us (bad credentials, no such bucket): try again or fix the config. */
        UNAVAILABLE,
        /** What the store holds does not decrypt or does not match its manifest: the backup is damaged. */
        CORRUPT,
        /** Anything else, local mostly: the volume file unreadable, the disk full. */
        FAILED
    }

    private final Kind kind;

    public BackupException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public BackupException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() { return kind; }

    static BackupException notFound(String message) { return new BackupException(Kind.NOT_FOUND, message); }

    static BackupException corrupt(String message) { return new BackupException(Kind.CORRUPT, message); }

    static BackupException corrupt(String message, Throwable cause) { return new BackupException(Kind.CORRUPT, message, cause); }

    static BackupException failed(String message, Throwable cause) { return new BackupException(Kind.FAILED, message, cause); }
}

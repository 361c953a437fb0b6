package dev.bhatti.server.image;

/** An archive that cannot be imported: not a tar, truncated, too large, unsafe, or not an image; the message says which. */
public final class ImportException extends Exception {
    public ImportException(String message) { super(message); }

    public ImportException(String message, Throwable cause) { super(message, cause); }
}

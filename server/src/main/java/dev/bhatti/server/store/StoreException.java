package dev.bhatti.server.store;

/** The store failed; the daemon answers 500 and logs the cause. */
public class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) { super(message, cause); }
}

package dev.bhatti.sdk;

/** 404: no such sandbox, snapshot, file, secret, image or volume. */
public final class NotFound extends BhattiException {
    NotFound(String message, int status) { super(message, status, null); }
}

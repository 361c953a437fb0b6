package dev.bhatti.sdk;

/** 403: the key is valid but may not do this. */
public final class Forbidden extends BhattiException {
    Forbidden(String message, int status) { super(message, status, null); }
}

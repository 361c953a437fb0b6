package dev.bhatti.sdk;

/** 401: no key, or a key the daemon does not know. */
public final class AuthenticationError extends BhattiException {
    AuthenticationError(String message, int status) { super(message, status, null); }
}

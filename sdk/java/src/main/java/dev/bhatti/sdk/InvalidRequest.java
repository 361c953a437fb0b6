package dev.bhatti.sdk;

/** 400 (and other refusals of the request as such: 405, 413, 422): the message says what to fix. */
public final class InvalidRequest extends BhattiException {
    InvalidRequest(String message, int status) { super(message, status, null); }
}

package dev.bhatti.sdk;

/** 409: the thing exists already (a snapshot name), or is in a state that forbids this. */
public final class Conflict extends BhattiException {
    Conflict(String message, int status) { super(message, status, null); }
}

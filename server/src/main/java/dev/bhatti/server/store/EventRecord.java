package dev.bhatti.server.store;

import java.time.Instant;

/**
 * One event: {@code type} is dotted (sandbox.create, thermal.cold, auth.failed...), {@code userName} and
 * {@code sandboxName} are empty when they do not apply, {@code detail} says more in words.
 */
public record EventRecord(long id, Instant at, String type, String userName, String sandboxName, String detail) {

    /** What to list: a type prefix, a user, a sandbox (each empty for any), events since, at most limit. */
    public record Filter(String typePrefix, String userName, String sandboxName, Instant since, int limit) {}
}

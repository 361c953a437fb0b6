package dev.bhatti.server.store;

import java.time.Instant;

/** A secret as listed: its name and dates, never its value. */
public record SecretRecord(String name, Instant createdAt, Instant updatedAt) {}

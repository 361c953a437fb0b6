package dev.bhatti.sdk;

import java.time.Instant;

/** A secret's metadata; its value is never returned. */
public record Secret(String name, Instant createdAt, Instant updatedAt) {}

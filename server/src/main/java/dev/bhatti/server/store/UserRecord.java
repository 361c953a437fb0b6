package dev.bhatti.server.store;

import java.time.Instant;

/** A tenant. Only the SHA-256 of the API key is ever stored. */
public record UserRecord(String id, String name, String apiKeyHash, int maxSandboxes, int maxCpus, int maxMemoryMb,
                         int maxSnapshots, Instant createdAt) {}

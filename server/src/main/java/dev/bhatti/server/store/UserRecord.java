package dev.bhatti.server.store;

import java.time.Instant;

/**
 * A tenant. Only the SHA-256 of the API key is ever stored. Limits count everything the user has:
 * sandboxes, vCPUs and MB summed over them, snapshots and the MB those snapshots take on disk.
 */
public record UserRecord(String id, String name, String apiKeyHash, int maxSandboxes, int maxCpus, int maxMemoryMb,
                         int maxSnapshots, int maxStorageMb, Instant createdAt) {}

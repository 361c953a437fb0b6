package dev.bhatti.sdk;

import java.time.Instant;

/**
 * A named snapshot: a running machine's memory, processes and disk at one moment.
 *
 * @param status         creating or ready
 * @param sourceSandbox  the name of the sandbox it was taken of
 */
public record Snapshot(String id, String name, String status, String sourceSandbox, String sourceSandboxId, int cpus,
                       int memoryMb, String image, long sizeBytes, long sizeMb, Instant createdAt) {}

package dev.bhatti.server.store;

import java.time.Instant;

/**
 * A named snapshot as stored. {@code status}: creating (files being written) or ready. {@code cpus},
 * {@code memoryMb} and {@code image} are the source sandbox's: a resumed snapshot needs the same.
 */
public record SnapshotRecord(String id, String userId, String name, String status, String sourceSandboxId,
                             String sourceName, int cpus, int memoryMb, String image, long sizeBytes, Instant createdAt) {

    public SnapshotRecord ready(long size) {
        return new SnapshotRecord(id, userId, name, "ready", sourceSandboxId, sourceName, cpus, memoryMb, image, size, createdAt);
    }
}

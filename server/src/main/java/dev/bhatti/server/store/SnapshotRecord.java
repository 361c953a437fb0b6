package dev.bhatti.server.store;

import java.time.Instant;

/**
 * A named snapshot as stored. {@code status}: creating (files being written) or ready. {@code cpus},
 * {@code memoryMb} and {@code image} are the source sandbox's: a resumed snapshot needs the same.
 * {@code type}: {@link #MEMORY} (memory, processes and disk; resumes where it was) or {@link #FILESYSTEM}
 * (the disk only; resumes as a fresh boot of it).
 */
public record SnapshotRecord(String id, String userId, String name, String status, String sourceSandboxId,
                             String sourceName, int cpus, int memoryMb, String image, long sizeBytes, Instant createdAt, String type) {
    public static final String MEMORY = "memory";
    public static final String FILESYSTEM = "filesystem";

    public SnapshotRecord(String id, String userId, String name, String status, String sourceSandboxId,
                          String sourceName, int cpus, int memoryMb, String image, long sizeBytes, Instant createdAt) {
        this(id, userId, name, status, sourceSandboxId, sourceName, cpus, memoryMb, image, sizeBytes, createdAt, MEMORY);
    }

    public SnapshotRecord ready(long size) {
        return new SnapshotRecord(id, userId, name, "ready", sourceSandboxId, sourceName, cpus, memoryMb, image, size, createdAt, type);
    }

    public boolean filesystem() { return FILESYSTEM.equals(type); }
}

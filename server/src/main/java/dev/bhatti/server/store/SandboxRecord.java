package dev.bhatti.server.store;

import java.time.Instant;

/**
 * A sandbox as stored. {@code status}: starting, running, stopped or error; {@code detail} says why.
 * {@code keepHot} exempts it from automatic pausing and snapshotting.
 */
public record SandboxRecord(String id, String userId, String name, String status, String detail, int cpus,
                            int memoryMb, String image, String engine, String accelerator, Instant createdAt, boolean keepHot) {

    public SandboxRecord withStatus(String newStatus, String newDetail) {
        return new SandboxRecord(id, userId, name, newStatus, newDetail, cpus, memoryMb, image, engine, accelerator, createdAt, keepHot);
    }

    public SandboxRecord withAccelerator(String acc) {
        return new SandboxRecord(id, userId, name, status, detail, cpus, memoryMb, image, engine, acc, createdAt, keepHot);
    }
}

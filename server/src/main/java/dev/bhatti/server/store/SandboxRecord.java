package dev.bhatti.server.store;

import java.time.Instant;

/**
 * A sandbox as stored; {@code detail} says why it is in its {@code status}.
 * {@code keepHot} exempts it from automatic pausing and snapshotting.
 */
public record SandboxRecord(String id, String userId, String name, SandboxStatus status, String detail, int cpus,
                            int memoryMb, String image, String engine, String accelerator, Instant createdAt, boolean keepHot) {

    public SandboxRecord withStatus(SandboxStatus newStatus, String newDetail) {
        return new SandboxRecord(id, userId, name, newStatus, newDetail, cpus, memoryMb, image, engine, accelerator, createdAt, keepHot);
    }

    public SandboxRecord withAccelerator(String acc) {
        return new SandboxRecord(id, userId, name, status, detail, cpus, memoryMb, image, engine, acc, createdAt, keepHot);
    }
}

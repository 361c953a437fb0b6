package dev.bhatti.server.sandbox;

import dev.bhatti.server.store.SnapshotRecord;

/** The JSON shape of a named snapshot in API responses. */
public record SnapshotView(String id, String name, String status, String sourceSandbox, String sourceSandboxId, int cpus,
                           int memoryMb, String image, long sizeBytes, long sizeMb, String createdAt, String type) {

    public static SnapshotView of(SnapshotRecord r) {
        return new SnapshotView(r.id(), r.name(), r.status(), r.sourceName(), r.sourceSandboxId(), r.cpus(), r.memoryMb(), r.image(),
                r.sizeBytes(), (r.sizeBytes() + (1 << 20) - 1) >> 20, r.createdAt().toString(), r.type());
    }
}

package dev.bhatti.server.sandbox;

import dev.bhatti.server.store.SandboxRecord;

/** The JSON shape of a sandbox in API responses. */
public record SandboxView(String id, String name, String status, String detail, int cpus, int memoryMb, String image,
                          String engine, String accelerator, String ip, String createdAt) {

    public static SandboxView of(SandboxRecord r) {
        return new SandboxView(r.id(), r.name(), r.status(), r.detail(), r.cpus(), r.memoryMb(), r.image(), r.engine(),
                r.accelerator(), null, r.createdAt().toString());
    }
}

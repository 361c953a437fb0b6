package dev.bhatti.server.sandbox;

import dev.bhatti.server.store.SandboxRecord;

/**
 * The JSON shape of a sandbox in API responses. {@code thermal} is hot, warm or cold (empty when the
 * sandbox has no VM to resume); {@code diskBytes} is what its files take on disk, in inspect only.
 */
public record SandboxView(String id, String name, String status, String thermal, String detail, int cpus, int memoryMb,
                          String image, String engine, String accelerator, String ip, boolean keepHot, Long diskBytes,
                          String createdAt) {

    public static SandboxView of(SandboxRecord r, String thermal) {
        return new SandboxView(r.id(), r.name(), r.status(), thermal, r.detail(), r.cpus(), r.memoryMb(), r.image(), r.engine(),
                r.accelerator(), null, r.keepHot(), null, r.createdAt().toString());
    }

    public SandboxView withDiskBytes(long bytes) {
        return new SandboxView(id, name, status, thermal, detail, cpus, memoryMb, image, engine, accelerator, ip, keepHot, bytes, createdAt);
    }
}

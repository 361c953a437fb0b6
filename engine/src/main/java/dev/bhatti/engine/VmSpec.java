package dev.bhatti.engine;

import java.util.Objects;

/** What to boot. {@code hostname} is the guest's hostname; {@code tier} names the base image. */
public record VmSpec(String id, String hostname, int cpus, int memoryMb, String tier) {
    public VmSpec {
        Objects.requireNonNull(id);
        Objects.requireNonNull(hostname);
        Objects.requireNonNull(tier);
        if (!id.matches("[a-z0-9]{1,32}")) throw new IllegalArgumentException("bad vm id " + id);
        if (cpus < 1) throw new IllegalArgumentException("cpus must be >= 1");
        if (memoryMb < 64) throw new IllegalArgumentException("memory must be >= 64 MB");
    }
}

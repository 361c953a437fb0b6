package dev.bhatti.engine;

import java.util.Objects;

/**
 * What to boot. {@code hostname} is the guest's hostname; {@code tier} names the base image; {@code net}
 * is its network attachment, or null for a VM without a NIC (it still has its agent channel).
 */
public record VmSpec(String id, String hostname, int cpus, int memoryMb, String tier, GuestNet net) {
    public VmSpec {
        Objects.requireNonNull(id);
        Objects.requireNonNull(hostname);
        Objects.requireNonNull(tier);
        if (!id.matches("[a-z0-9]{1,32}")) throw new IllegalArgumentException("bad vm id " + id);
        if (cpus < 1) throw new IllegalArgumentException("cpus must be >= 1");
        if (memoryMb < 64) throw new IllegalArgumentException("memory must be >= 64 MB");
    }

    public VmSpec(String id, String hostname, int cpus, int memoryMb, String tier) { this(id, hostname, cpus, memoryMb, tier, null); }
}

package dev.bhatti.engine;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What to boot. {@code hostname} is the guest's hostname; {@code tier} names the base image; {@code net}
 * is its network attachment, or null for a VM without a NIC (it still has its agent channel).
 * {@code rootfs} is the root filesystem of an image that is not a tier (pulled, imported, saved), null for
 * a tier; such a VM boots its agent from the engine's tools disk, {@code tools}, which the engine picks at
 * create and keeps with the VM and its snapshots (null until then, and for tiers). {@code volumes} are
 * attached in their order and mounted by the agent at each boot. {@code balloon}: see {@link #withBalloon};
 * {@code memoryFile}: see {@link #withMemoryFile}.
 */
public record VmSpec(String id, String hostname, int cpus, int memoryMb, String tier, GuestNet net, Path rootfs, Path tools, int diskMb,
                     List<VolumeDisk> volumes, boolean balloon, boolean memoryFile) {
    public VmSpec {
        Objects.requireNonNull(id);
        Objects.requireNonNull(hostname);
        Objects.requireNonNull(tier);
        if (!id.matches("[a-z0-9]{1,32}")) throw new IllegalArgumentException("bad vm id " + id);
        if (cpus < 1) throw new IllegalArgumentException("cpus must be >= 1");
        if (memoryMb < 64) throw new IllegalArgumentException("memory must be >= 64 MB");
        if (tools != null && rootfs == null) throw new IllegalArgumentException("a tools disk goes with an image's rootfs");
        if (diskMb < 0) throw new IllegalArgumentException("disk size must be >= 0");
        volumes = volumes == null ? List.of() : List.copyOf(volumes);
        if (volumes.size() > VolumeDisk.MAX_PER_VM) throw new IllegalArgumentException("at most " + VolumeDisk.MAX_PER_VM + " volumes");
    }

    public VmSpec(String id, String hostname, int cpus, int memoryMb, String tier, GuestNet net, Path rootfs, Path tools, int diskMb,
                  List<VolumeDisk> volumes) {
        this(id, hostname, cpus, memoryMb, tier, net, rootfs, tools, diskMb, volumes, false, false);
    }

    public VmSpec(String id, String hostname, int cpus, int memoryMb, String tier, GuestNet net, Path rootfs, Path tools, int diskMb) {
        this(id, hostname, cpus, memoryMb, tier, net, rootfs, tools, diskMb, List.of());
    }

    public VmSpec(String id, String hostname, int cpus, int memoryMb, String tier, GuestNet net) {
        this(id, hostname, cpus, memoryMb, tier, net, null, null, 0);
    }

    public VmSpec(String id, String hostname, int cpus, int memoryMb, String tier) { this(id, hostname, cpus, memoryMb, tier, null); }

    /** A VM of the image whose root filesystem is {@code rootfs} (named {@code tier} for display). */
    public VmSpec withImage(Path rootfs, Path tools) { return new VmSpec(id, hostname, cpus, memoryMb, tier, net, rootfs, tools, diskMb, volumes, balloon, memoryFile); }

    /**
     * A root disk of {@code diskMb} MB (0: the image's own size); the guest grows its file system to it at
     * its first boot. Only a create reads it: a restored VM keeps the disk it had.
     */
    public VmSpec withDiskMb(int diskMb) { return new VmSpec(id, hostname, cpus, memoryMb, tier, net, rootfs, tools, diskMb, volumes, balloon, memoryFile); }

    /** The VM with these volumes attached, in this order. */
    public VmSpec withVolumes(List<VolumeDisk> volumes) { return new VmSpec(id, hostname, cpus, memoryMb, tier, net, rootfs, tools, diskMb, volumes, balloon, memoryFile); }

    /**
     * The VM with a virtio balloon whose free page reporting hands the memory its guest frees back to
     * the host. The engine gives one to every VM it creates; a VM or snapshot made before it existed
     * keeps none (its saved device state has no such device).
     */
    public VmSpec withBalloon(boolean balloon) { return new VmSpec(id, hostname, cpus, memoryMb, tier, net, rootfs, tools, diskMb, volumes, balloon, memoryFile); }

    /**
     * The VM with its RAM in a file of its own directory, mapped shared: going cold then writes only the
     * device state and the pages changed since the file was last synced, and waking maps the file again,
     * its pages read as the guest touches them. The price is paid while hot: the guest's memory writes
     * are the host's dirty page cache, written back to the disk and throttled with every other writer's
     * when the disk is busy. Off by default ({@code engine.memory_file}); a VM or snapshot made without it
     * keeps its RAM in QEMU's own memory (streamed to a compressed file when cold).
     */
    public VmSpec withMemoryFile(boolean memoryFile) { return new VmSpec(id, hostname, cpus, memoryMb, tier, net, rootfs, tools, diskMb, volumes, balloon, memoryFile); }

    /** Whether the VM boots from an image that is not a tier, with the tools disk. */
    public boolean fromImage() { return rootfs != null; }
}

package dev.bhatti.engine;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A volume attached to a VM: a raw file system image at {@code file} on the host, a virtio disk in the
 * guest that the agent mounts at {@code mount}, read-only if {@code readOnly}. A VM's volumes keep their
 * order for its whole life: a snapshot's device state knows them by position.
 */
public record VolumeDisk(Path file, String mount, boolean readOnly) {
    /** Volumes one VM may have: the microvm machine has 24 virtio slots, and the VM's own devices take five. */
    public static final int MAX_PER_VM = 8;

    public VolumeDisk {
        Objects.requireNonNull(file);
        Objects.requireNonNull(mount);
        if (!mount.startsWith("/")) throw new IllegalArgumentException("a mount path must be absolute: " + mount);
    }

    /** The disk's serial in the guest, by which the agent finds it (at most 20 characters, virtio's limit). */
    public static String serial(int index) { return "bhatti-vol" + index; }
}

package dev.bhatti.engine.qemu;

import java.nio.file.Path;
import java.util.List;

/**
 * The files of one memory snapshot in {@code dir}: the complete snapshot, the guest's RAM file when it
 * has one, and the pieces that exist only while the snapshot is being written. Used for a sandbox's own cold snapshot and for named snapshots alike.
 */
record SnapshotFiles(Path dir) {
    /**
     * Device state and, for a VM without a {@link #ram} file, its memory, zstd-compressed; exists only
     * once complete.
     */
    Path memory() { return dir.resolve("memory.zst"); }
    /**
     * The guest's RAM as a file, for a VM whose spec says so: the live memory of a running VM, mapped by
     * its QEMU; beside a snapshot's device state ({@link #memory}), the RAM it resumes with.
     */
    Path ram() { return dir.resolve("memory.ram"); }
    /** Written during a snapshot; renamed to {@link #memory} only once complete. */
    Path partial() { return dir.resolve("memory.zst.partial"); }
    /** Created by the snapshot writer once the partial file is complete and synced. */
    Path written() { return dir.resolve("memory.zst.written"); }
    /** Written by the snapshot writer if it failed (disk full...). */
    Path error() { return dir.resolve("memory.zst.error"); }
    /** The writer's stderr while it runs. */
    Path log() { return dir.resolve("memory.zst.log"); }

    /** Everything but the complete snapshot. */
    List<Path> pieces() { return List.of(partial(), written(), error(), log()); }
}

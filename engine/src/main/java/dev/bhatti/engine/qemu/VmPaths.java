package dev.bhatti.engine.qemu;

import java.nio.file.Path;
import java.util.stream.Stream;

/** Files of one VM, all inside its own directory so that destroy is one recursive delete. */
record VmPaths(Path dir) {
    /** sun_path holds 108 bytes including the terminating NUL. */
    static final int MAX_SOCKET_PATH = 107;

    Path disk() { return dir.resolve("disk.qcow2"); }
    Path agentSocket() { return dir.resolve("agent.sock"); }
    Path qmpSocket() { return dir.resolve("qmp.sock"); }
    /** Where memory snapshots stream between QEMU and the daemon (QEMU may spawn no helper to write a file). */
    Path migrateSocket() { return dir.resolve("migrate.sock"); }
    Path console() { return dir.resolve("console.log"); }
    Path qemuLog() { return dir.resolve("qemu.log"); }
    Path pidFile() { return dir.resolve("qemu.pid"); }
    /** What the VM was created with, so that it can be started again by a later daemon. */
    Path spec() { return dir.resolve("vm.properties"); }
    /** The memory and device state of a suspended VM, zstd-compressed; present only while it is cold. */
    Path memorySnapshot() { return snapshotFiles().memory(); }
    /** The guest's RAM of a VM with a memory file (see {@link dev.bhatti.engine.VmSpec#withMemoryFile}). */
    Path ram() { return snapshotFiles().ram(); }
    Path memorySnapshotPartial() { return snapshotFiles().partial(); }
    Path memorySnapshotWritten() { return snapshotFiles().written(); }
    Path memorySnapshotError() { return snapshotFiles().error(); }
    SnapshotFiles snapshotFiles() { return new SnapshotFiles(dir); }
    /** A snapshot that failed to restore, kept for inspection; start --force boots from the disk instead. */
    Path memorySnapshotFailed() { return dir.resolve("memory.zst.failed"); }

    boolean socketPathsFit() {
        return Stream.of(agentSocket(), qmpSocket(), migrateSocket())
                .allMatch(p -> p.toString().length() <= MAX_SOCKET_PATH);
    }
}

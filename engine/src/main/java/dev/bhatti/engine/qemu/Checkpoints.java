package dev.bhatti.engine.qemu;

import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.EngineException.Kind;
import dev.bhatti.engine.VmState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.nio.file.StandardCopyOption;

/** Writes a VM's memory and disk to snapshots: the one a suspend leaves, and named ones that outlive the VM. */
record Checkpoints(SnapshotStore snapshots, Jailer jailer) {
    private static final Logger log = LoggerFactory.getLogger(Checkpoints.class);
    /** Writing a memory snapshot of the largest guests to a slow disk stays well within this. */
    private static final Duration SNAPSHOT_TIMEOUT = Duration.ofMinutes(10);

    /**
     * Captures the VM's memory, devices and disk as snapshot {@code snapshotId}, leaving it as hot, warm
     * or cold as it was; returns the bytes on disk. Nothing is left behind on failure.
     */
    long checkpoint(QemuVm vm, String snapshotId) throws EngineException { return checkpoint(vm, snapshotId, true); }

    /**
     * With {@code memory} false, a filesystem snapshot: the disk and volumes only (a hot VM stands still
     * while they are copied), marked so that a resume boots it afresh.
     */
    long checkpoint(QemuVm vm, String snapshotId, boolean memory) throws EngineException {
        Path dir = snapshots.dir(snapshotId);
        Path staging = SnapshotStore.staging(dir);
        vm.lifecycle.lock();
        try {
            if (Files.exists(dir)) throw new EngineException(Kind.CONFLICT, "snapshot " + snapshotId + " exists already");
            HostFiles.deleteTree(staging);
            Files.createDirectories(staging);
            if (vm.spec == null) vm.spec = SpecFile.read(vm.paths.spec());
            SpecFile.write(SnapshotStore.spec(staging), vm.spec);
            var files = new SnapshotFiles(staging);
            long started = System.nanoTime();
            if (!memory) {
                Files.createFile(SnapshotStore.diskOnly(staging));
                copyStill(vm, staging);
            } else switch (vm.state) {
                case SUSPENDED -> {
                    HostFiles.linkOrCopy(vm.paths.memorySnapshot(), files.memory());
                    copyFiles(vm, files);
                }
                case RUNNING, PAUSED -> captureLive(vm, files);
                default -> throw vm.notRunning();
            }
            HostFiles.sync(staging);
            Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
            long bytes = HostFiles.usage(dir);
            log.info("vm {}: snapshot {} taken in {} ms ({} KiB)", vm.id, snapshotId, (System.nanoTime() - started) / 1_000_000, bytes / 1024);
            return bytes;
        } catch (IOException e) {
            HostFiles.deleteTree(staging);
            throw new EngineException(Kind.FAILED, "could not write the snapshot: " + e.getMessage(), e);
        } catch (EngineException | RuntimeException e) {
            HostFiles.deleteTree(staging);
            throw e;
        } catch (InterruptedException e) {
            HostFiles.deleteTree(staging);
            Thread.currentThread().interrupt();
            throw new EngineException(Kind.FAILED, "interrupted while taking the snapshot", e);
        } finally {
            vm.lifecycle.unlock();
        }
    }

    /**
     * Copies a live VM's memory and disk while its vCPUs stand still (so both show the same instant),
     * then puts it back as it was. Called with the lifecycle lock held.
     */
    private void captureLive(QemuVm vm, SnapshotFiles files) throws IOException, EngineException, InterruptedException {
        boolean wasRunning = vm.state == VmState.RUNNING;
        Qmp qmp = vm.qmp();
        if (wasRunning) qmp.execute("stop", null);
        vm.state = VmState.PAUSED;
        try {
            writeMemory(vm, qmp, files);
            copyFiles(vm, files); // QEMU flushed and released its disks when the migration completed
        } finally {
            if (vm.destroying) throw new EngineException(Kind.NOT_FOUND, "the sandbox was destroyed during the snapshot");
            // cont also takes the disk back from a completed migration; a warm VM is then paused again
            qmp.execute("cont", null);
            if (wasRunning) {
                vm.state = VmState.RUNNING;
                GuestClock.correct(vm);
            } else {
                qmp.execute("stop", null);
            }
        }
    }

    /** The disk and volumes of a VM in any state, a hot one stopped for the copy (QEMU flushes its disks at stop). */
    private static void copyStill(QemuVm vm, Path staging) throws IOException, EngineException {
        if (vm.state != VmState.RUNNING) {
            if (vm.state == VmState.ERROR || vm.state == VmState.STARTING) throw vm.notRunning();
            copyDisks(vm, staging);
            return;
        }
        Qmp qmp = vm.qmp();
        qmp.execute("stop", null);
        vm.state = VmState.PAUSED;
        try {
            copyDisks(vm, staging);
        } finally {
            if (vm.destroying) throw new EngineException(Kind.NOT_FOUND, "the sandbox was destroyed during the snapshot");
            qmp.execute("cont", null);
            vm.state = VmState.RUNNING;
            GuestClock.correct(vm);
        }
    }

    private static void copyDisks(QemuVm vm, Path staging) throws IOException {
        HostFiles.copy(vm.paths.disk(), SnapshotStore.disk(staging));
        var volumes = vm.spec.volumes();
        for (int i = 0; i < volumes.size(); i++) HostFiles.copy(volumes.get(i).file(), SnapshotStore.volume(staging, i));
    }

    /**
     * The memory file, the disk and every attached volume, as they are while the VM stands still: a clone
     * resumed from the snapshot must see the files its memory remembers, whatever happens to the volumes later.
     */
    private static void copyFiles(QemuVm vm, SnapshotFiles files) throws IOException {
        Path staging = files.dir();
        if (vm.spec.memoryFile()) HostFiles.copy(vm.paths.ram(), files.ram());
        copyDisks(vm, staging);
    }

    /** Streams a stopped VM's memory into {@code files} through the socket its QEMU may reach from its jail. */
    void writeMemory(QemuVm vm, Qmp qmp, SnapshotFiles files) throws IOException, EngineException, InterruptedException {
        VmIdentity id = vm.identity != null ? vm.identity : jailer.recorded(vm.paths);
        jailer.openDir(vm.paths, id); // its directory's mode may have been reset since QEMU started
        Path socket = vm.paths.migrateSocket();
        MemorySnapshot.write(qmp, files, socket, "unix:" + jailer.inside(vm.paths, socket), s -> jailer.handOver(s, id),
                vm.spec.memoryFile() ? vm.paths.ram() : null, SNAPSHOT_TIMEOUT);
    }
}

package dev.bhatti.engine.qemu;

import dev.bhatti.engine.VmState;
import dev.bhatti.engine.agent.AgentClient;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Takes over the VMs a previous daemon process left, in whatever state it left them. */
record Adoption(Jailer jailer, ExitWatcher exits) {
    /** A snapshot writer ends moments after its migration; syncing a large file to a slow disk takes longer. */
    private static final Duration WRITER_EXIT_TIMEOUT = Duration.ofSeconds(60);

    /**
     * After a daemon restart, whatever the previous daemon was doing: a live QEMU process is adopted as
     * running or paused; one caught mid-restore is ended (its snapshot is still complete); one caught
     * after its snapshot was written is ended (the VM is then cold); one caught mid-snapshot is resumed.
     * Without a process, a complete snapshot means cold, anything else stopped.
     */
    void adopt(QemuVm vm) {
        VmPaths paths = vm.paths;
        String vmId = vm.id;
        vm.lifecycle.lock();
        try {
            if (vm.state == VmState.RUNNING || vm.state == VmState.PAUSED || vm.state == VmState.SUSPENDED) return;
            try {
                vm.spec = SpecFile.read(paths.spec());
            } catch (IOException e) {
                vm.state = VmState.ERROR;
                vm.detail = "its description is unreadable: " + e.getMessage();
                return;
            }
            Optional<ProcessHandle> process = VmProcesses.runningQemu(paths);
            if (process.isPresent()) {
                // A snapshot writer (QEMU's exec: child, and the zstd under it, before the jail) outlives a migration that
                // is cancelled or completed without the daemon: it may still create its files, so it is waited for.
                List<ProcessHandle> writers = process.get().descendants().toList();
                if (jailer.enabled()) vm.identity = jailer.recorded(paths);
                adoptProcess(vm, process.get());
                VmProcesses.awaitExit(writers, WRITER_EXIT_TIMEOUT);
            }
            // an unfinished snapshot is no snapshot; and a finished one whose daemon died before naming it is not either
            for (Path piece : paths.snapshotFiles().pieces()) Files.deleteIfExists(piece);
            if (vm.process == null) {
                exits.clearLeftovers(paths, vmId); // of a VM that ended while no daemon watched (a suspend's quit, then the kill)
                boolean cold = Files.exists(paths.memorySnapshot());
                vm.state = cold ? VmState.SUSPENDED : VmState.STOPPED;
                vm.detail = cold ? "" : "the VM process is not running";
            }
        } catch (IOException e) {
            vm.state = VmState.ERROR;
            vm.detail = "could not recover: " + e.getMessage();
        } finally {
            vm.lifecycle.unlock();
        }
    }

    /** Connects to a QEMU caught starting up (by a daemon killed mid-start): its socket may be moments away. */
    private static Qmp connectQmp(VmPaths paths, ProcessHandle process) throws IOException {
        long deadline = System.nanoTime() + QemuVm.AGENT_CONNECT_TIMEOUT.toNanos();
        while (true) {
            try {
                return Qmp.connect(paths.qmpSocket());
            } catch (IOException e) {
                if (!process.isAlive() || System.nanoTime() > deadline) throw e;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
    }

    private void adoptProcess(QemuVm vm, ProcessHandle process) throws IOException {
        vm.process = process;
        String runState;
        try {
            vm.qmp = connectQmp(vm.paths, process);
            runState = vm.qmp.runState();
        } catch (IOException e) {
            vm.state = VmState.ERROR;
            vm.detail = "the VM process runs but does not answer QMP: " + e.getMessage();
            exits.watchAdopted(vm, process);
            return;
        }
        boolean snapshotComplete = Files.exists(vm.paths.memorySnapshot());
        switch (runState) {
            case "inmigrate", "prelaunch", "postmigrate" -> {
                // a restore that did not finish, or a suspend whose snapshot is written: the file is what counts
                if (snapshotComplete) {
                    exits.endProcess(vm, vm.qmp);
                    return;
                }
                if (!runState.equals("postmigrate")) {
                    exits.endProcess(vm, vm.qmp);
                    return;
                }
                vm.qmp.execute("cont", null);
                runState = "running";
            }
            case "paused" -> {
                if (snapshotComplete) { // restored but never let run: the snapshot is still the truth
                    exits.endProcess(vm, vm.qmp);
                    return;
                }
                if (vm.qmp.migrationStatus().equals("active")) vm.qmp.execute("migrate_cancel", null);
            }
            default -> { }
        }
        Files.deleteIfExists(vm.paths.memorySnapshot());
        exits.watchAdopted(vm, process);
        if (runState.equals("paused")) {
            vm.state = VmState.PAUSED; // its agent cannot answer while paused; it is reached after resume
            vm.detail = "";
            return;
        }
        try {
            vm.agent = AgentClient.connect(vm.paths.agentSocket(), QemuVm.AGENT_CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            vm.state = VmState.RUNNING;
            vm.detail = "";
        } catch (IOException | TimeoutException e) {
            vm.state = VmState.ERROR;
            vm.detail = "the VM process runs but its agent does not answer: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            vm.state = VmState.ERROR;
            vm.detail = "interrupted while reconnecting";
        }
    }
}

package dev.bhatti.engine.qemu;

import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.EngineException.Kind;
import dev.bhatti.engine.VmState;
import dev.bhatti.engine.agent.AgentClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import dev.bhatti.protocol.PeerRestartedException;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;

/** Runs a VM again from its memory snapshot: a cold wake, or a clone of a named snapshot taking its own identity. */
record Restorer(EngineConfig config, VmBoot boot, Jailer jailer, ExitWatcher exits) {
    private static final Logger log = LoggerFactory.getLogger(Restorer.class);
    /** How long the first hello after a restore is waited for before connecting anew; doubled each time. */
    private static final Duration RESTORED_AGENT_FIRST_ATTEMPT = Duration.ofSeconds(3);
    private static final Duration RESTORED_AGENT_LONGEST_ATTEMPT = Duration.ofSeconds(20);
    /** How long a starting QEMU may take to listen on its QMP socket. */
    private static final Duration QEMU_LISTEN_TIMEOUT = Duration.ofSeconds(30);
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * Starts a new QEMU process that loads the snapshot, then lets it run. Only a snapshot that QEMU
     * refused is set aside (never retried in a loop; start --force then boots the disk). A slow load is
     * not a bad snapshot: until the guest runs, the snapshot still matches the disk, so it is kept for
     * the next try. Once the guest runs, its processes are what matters: a cold wake whose agent is slow
     * to answer keeps the VM running rather than killing it.
     */
    void restore(QemuVm vm, String cloneHostname) throws IOException, EngineException, InterruptedException {
        long started = System.nanoTime();
        VmProcesses.deleteSockets(vm.paths);
        if (vm.spec.memoryFile()) ensureMemoryFile(vm);
        vm.state = VmState.STARTING;
        Process process = boot.startQemu(vm, MemorySnapshot.incomingArgs(vm.paths.migrateSocket()));
        vm.process = process.toHandle();
        long loaded;
        SocketChannel agentChannel = null;
        try {
            long listenDeadline = System.nanoTime() + QEMU_LISTEN_TIMEOUT.toNanos();
            Qmp qmp = Qmp.over(VmProcesses.connectWhenListening(vm.paths.qmpSocket(), process.toHandle(), listenDeadline));
            vm.qmp = qmp;
            // before the stream arrives: the loading side must expect the memory to be left out as well
            if (vm.spec.memoryFile()) qmp.execute("migrate-set-capabilities", MemorySnapshot.IGNORE_SHARED);
            try (var feed = MemorySnapshot.Feed.start(vm.paths.memorySnapshot(), vm.paths.migrateSocket(), process.toHandle(), listenDeadline)) {
                MemorySnapshot.awaitLoaded(qmp, process.toHandle(), feed, config.bootTimeout());
            }
            loaded = System.nanoTime();
            // Connected before the guest runs: the snapshot recorded a host on the agent's port, and when
            // the restored guest starts, QEMU tells it only of a change. Connecting after cont, the guest
            // first saw its host gone, reopened its port, and requests sent meanwhile were lost ("the
            // guest agent restarted", SoakIT).
            agentChannel = VmProcesses.connectWhenListening(vm.paths.agentSocket(), process.toHandle(), listenDeadline);
            qmp.execute("cont", null);
        } catch (IOException | EngineException | RuntimeException e) {
            closeQuietly(agentChannel);
            // QEMU ends itself when its snapshot stream is corrupt; the QMP error may come first
            boolean refused = e instanceof MemorySnapshot.Unloadable || exitsSoon(process);
            abandonRestore(vm, process, refused);
            String tail = VmProcesses.tail(vm.paths.qemuLog(), 3);
            String qemuSaid = tail.isBlank() ? "" : " (" + tail.strip() + ")";
            if (!refused) {
                log.warn("vm {}: restore failed before the guest ran; its snapshot is kept: {}", vm.id, e.getMessage());
                throw new EngineException(Kind.FAILED, "could not restore the sandbox: " + e.getMessage() + qemuSaid
                        + "; its snapshot is kept: try the start again", e);
            }
            vm.detail = "its snapshot failed to load: " + e.getMessage() + "; start --force boots it from its disk";
            log.warn("vm {}: restore failed: {}", vm.id, e.getMessage());
            throw new EngineException(Kind.FAILED, "could not restore the sandbox: " + e.getMessage() + qemuSaid
                    + "; start --force boots it from its disk", e);
        }
        // The guest runs from here: the disk moves on and the memory snapshot is stale.
        Files.deleteIfExists(vm.paths.memorySnapshot());
        vm.agent = awaitRestoredAgent(vm, process, agentChannel);
        long answered = System.nanoTime();
        vm.state = VmState.RUNNING;
        vm.detail = "";
        exits.watch(vm, process);
        if (cloneHostname != null) {
            try {
                if (vm.agent == null) throw new EngineException(Kind.FAILED, "the guest agent did not answer after the restore");
                takeNewIdentity(vm, cloneHostname); // a clone must never run with its origin's identity
            } catch (EngineException | RuntimeException e) {
                stopRestored(vm, process);
                vm.state = VmState.STOPPED;
                vm.detail = "it could not take its own identity after the restore; start --force boots it from its disk";
                throw new EngineException(Kind.FAILED, "could not restore the sandbox: " + e.getMessage()
                        + "; start --force boots it from its disk", e);
            }
        } else if (vm.agent != null) {
            GuestClock.correct(vm);
        }
        log.info("vm {} restored in {} ms (load {} ms, agent answered after {} ms)", vm.id, (System.nanoTime() - started) / 1_000_000,
                (loaded - started) / 1_000_000, (answered - loaded) / 1_000_000);
    }

    /**
     * The memory file the snapshot resumes with, its blocks allocated (a copy of a template's or a named
     * snapshot's has holes). A missing one makes the snapshot useless; a full disk only delays the wake.
     */
    private static void ensureMemoryFile(QemuVm vm) throws IOException, EngineException {
        if (!Files.isRegularFile(vm.paths.ram())) {
            Files.move(vm.paths.memorySnapshot(), vm.paths.memorySnapshotFailed(), StandardCopyOption.REPLACE_EXISTING);
            vm.state = VmState.STOPPED;
            vm.detail = "its memory file is missing; start --force boots it from its disk";
            throw new EngineException(Kind.FAILED, "could not restore the sandbox: its memory file is missing; start --force boots it from its disk");
        }
        try {
            MemoryFile.allocate(vm.paths.ram(), vm.spec.memoryMb());
        } catch (MemoryFile.NoSpace e) {
            throw new EngineException(Kind.FAILED, "could not restore the sandbox: " + e.getMessage() + "; its snapshot is kept", e);
        }
    }

    /** Whether QEMU has ended, or ends within a moment. */
    private static boolean exitsSoon(Process process) {
        try {
            return process.waitFor(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    private static void closeQuietly(SocketChannel channel) {
        if (channel == null) return;
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** Ends the restoring QEMU on purpose (its exit is then no crash) and frees its connections and cgroups. */
    private void stopRestored(QemuVm vm, Process process) {
        vm.process = null;
        vm.closeConnections();
        VmProcesses.stop(process.toHandle());
        jailer.release(vm.paths, vm.id);
    }

    /** Ends a restore before its guest ran; the snapshot is set aside only when QEMU refused it. */
    private void abandonRestore(QemuVm vm, Process process, boolean snapshotRefused) throws IOException {
        stopRestored(vm, process);
        if (snapshotRefused && Files.exists(vm.paths.memorySnapshot())) {
            Files.move(vm.paths.memorySnapshot(), vm.paths.memorySnapshotFailed(), StandardCopyOption.REPLACE_EXISTING);
        }
        vm.state = snapshotRefused || !Files.exists(vm.paths.memorySnapshot()) ? VmState.STOPPED : VmState.SUSPENDED;
    }

    /**
     * The agent of a guest that runs again after a restore. It reopens its port then, and a reopen can
     * race the host's connect; the handshake copes with a lost hello, and as a second line the host
     * connects anew when no answer comes (a new connection also resets the port in the guest). On a
     * loaded host this can take long; the wait is the boot timeout. Null when the agent never answered:
     * the VM keeps running (its processes intact) and the next request tries again.
     */
    private AgentClient awaitRestoredAgent(QemuVm vm, Process process, SocketChannel connected) throws InterruptedException {
        long deadline = System.nanoTime() + config.bootTimeout().toNanos();
        long attemptMillis = RESTORED_AGENT_FIRST_ATTEMPT.toMillis();
        for (int attempt = 1; ; attempt++) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            long wait = Math.max(1, Math.min(attemptMillis, left));
            try {
                if (attempt == 1) return AgentClient.over(connected, wait, TimeUnit.MILLISECONDS);
                return AgentClient.connect(vm.paths.agentSocket(), wait, TimeUnit.MILLISECONDS);
            } catch (TimeoutException | IOException e) {
                if (!process.isAlive() || System.nanoTime() >= deadline) {
                    log.warn("vm {}: the guest agent did not answer after the restore ({} attempts, last: {}); the VM keeps running",
                            vm.id, attempt, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
                    return null;
                }
                log.info("vm {}: no answer from the guest agent after the restore within {} ms (attempt {}); connecting again",
                        vm.id, attemptMillis, attempt);
                attemptMillis = Math.min(attemptMillis * 2, RESTORED_AGENT_LONGEST_ATTEMPT.toMillis());
            }
        }
    }

    /**
     * A VM restored from a named snapshot is a new machine: it gets its own hostname and fresh entropy
     * for its random generator (clones must never draw the same random numbers), and the right time.
     */
    void takeNewIdentity(QemuVm vm, String hostname) throws EngineException, InterruptedException {
        byte[] entropy = new byte[64];
        RANDOM.nextBytes(entropy);
        String network = vm.spec.net() == null ? "" : vm.spec.net().wire();
        try {
            vm.liveAgent().resumed(System.currentTimeMillis(), hostname, entropy, network);
        } catch (EngineException e) {
            // The restored guest reopened its agent port under the request (RandomKillIT saw it once in 30
            // clones); taking an identity twice is harmless, so it is asked again, once.
            if (!PeerRestartedException.isCause(e)) throw e;
            log.info("vm {}: the new identity was lost to the agent reopening its port; sending it again", vm.id);
            RANDOM.nextBytes(entropy);
            vm.liveAgent().resumed(System.currentTimeMillis(), hostname, entropy, network);
        }
    }
}

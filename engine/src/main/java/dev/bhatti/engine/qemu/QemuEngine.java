package dev.bhatti.engine.qemu;

import dev.bhatti.engine.Engine;
import dev.bhatti.engine.Guest;
import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.EngineException.Kind;
import dev.bhatti.engine.VmInfo;
import dev.bhatti.engine.VmSpec;
import dev.bhatti.engine.VmState;
import dev.bhatti.engine.agent.AgentClient;
import dev.bhatti.engine.agent.AgentGuest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs each VM as its own QEMU process in its own session, so VMs outlive a daemon restart and are
 * adopted again by the next daemon. The engine watches every process and reports deaths.
 */
public final class QemuEngine implements Engine {

    private static final Logger log = LoggerFactory.getLogger(QemuEngine.class);
    private static final Duration ADOPT_TIMEOUT = Duration.ofSeconds(10);
    /** How long the first hello after a restore is waited for before connecting anew; doubled each time. */
    private static final Duration RESTORED_AGENT_FIRST_ATTEMPT = Duration.ofSeconds(3);
    private static final Duration RESTORED_AGENT_LONGEST_ATTEMPT = Duration.ofSeconds(20);
    private static final int CLOCK_ATTEMPTS = 2;
    /** How long a starting QEMU may take to listen on its QMP socket. */
    private static final Duration QEMU_LISTEN_TIMEOUT = Duration.ofSeconds(30);
    /** Writing a memory snapshot of the largest guests to a slow disk stays well within this. */
    private static final Duration SNAPSHOT_TIMEOUT = Duration.ofMinutes(10);
    /** A snapshot writer ends moments after its migration; syncing a large file to a slow disk takes longer. */
    private static final Duration WRITER_EXIT_TIMEOUT = Duration.ofSeconds(60);
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private final EngineConfig config;
    private final Accelerator accelerator;
    private final ImageCatalog images;
    private final QemuCommand command;
    private final SnapshotStore snapshots;
    private final Jailer jailer;
    private final Map<String, QemuVm> vms = new ConcurrentHashMap<>();
    private final List<StateListener> listeners = new CopyOnWriteArrayList<>();

    public QemuEngine(EngineConfig config) {
        this.config = config;
        this.accelerator = Accelerator.detect(config.accel());
        this.images = new ImageCatalog(config.imagesDir());
        this.snapshots = new SnapshotStore(config.snapshotsDir());
        this.command = new QemuCommand(config.qemuBinary(), accelerator, HostCpu.tscKhz(Path.of("/proc/cpuinfo")));
        this.jailer = Jailer.forHost(config.jail(), config.sandboxesDir());
        log.info("qemu engine: accelerator {}, images in {}", accelerator.wire(), config.imagesDir());
        Thread.ofVirtual().name("console-logs").start(this::boundConsoleLogs);
    }

    /** Every few seconds, cuts down console logs that a chatty guest has grown. */
    private void boundConsoleLogs() {
        while (true) {
            try {
                Thread.sleep(5_000);
            } catch (InterruptedException e) {
                return;
            }
            for (QemuVm vm : vms.values()) {
                if (ConsoleLogs.rotateIfLarge(vm.paths.console())) log.info("vm {}: console log rotated", vm.id);
            }
        }
    }

    @Override public String name() { return "qemu"; }

    public Accelerator accelerator() { return accelerator; }

    @Override public List<String> tiers() { return images.tiers(); }

    @Override public void onStateChange(StateListener listener) { listeners.add(listener); }

    @Override
    public VmInfo create(VmSpec spec) throws EngineException {
        checkImages(spec.tier());
        return build(spec, vm -> {
            createDisk(spec.tier(), vm.paths);
            boot(vm, List.of());
        });
    }

    private interface Build {
        void run(QemuVm vm) throws IOException, EngineException, InterruptedException;
    }

    /**
     * Registers a new VM, gives it its directory and description, and runs {@code build} under its
     * lifecycle lock. On any failure nothing is left behind: no process, no file, no entry.
     */
    private VmInfo build(VmSpec spec, Build build) throws EngineException {
        var paths = new VmPaths(config.sandboxesDir().resolve(spec.id()));
        if (!paths.socketPathsFit()) {
            throw new EngineException(Kind.INVALID, "the data directory path is too long for Unix sockets ("
                    + paths.agentSocket() + "); use a shorter --data-dir");
        }
        var vm = new QemuVm(spec.id(), paths);
        vm.spec = spec;
        if (vms.putIfAbsent(spec.id(), vm) != null) throw new EngineException(Kind.INVALID, "vm " + spec.id() + " already exists");
        vm.lifecycle.lock();
        try {
            Files.createDirectories(paths.dir().getParent());
            Files.createDirectory(paths.dir());
            SpecFile.write(paths.spec(), spec);
            build.run(vm);
            return info(vm);
        } catch (EngineException | RuntimeException e) {
            cleanUp(vm);
            throw e;
        } catch (IOException e) {
            cleanUp(vm);
            throw new EngineException(Kind.FAILED, "could not create vm: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            cleanUp(vm);
            Thread.currentThread().interrupt();
            throw new EngineException(Kind.FAILED, "interrupted while starting the vm", e);
        } finally {
            vm.lifecycle.unlock();
        }
    }

    /** Starts QEMU from the VM's disk and waits for its agent. Called with the lifecycle lock held. */
    private void boot(QemuVm vm, List<String> extraArgs) throws IOException, EngineException, InterruptedException {
        VmProcesses.deleteSockets(vm.paths);
        vm.state = VmState.STARTING;
        Process process = startQemu(vm, extraArgs);
        vm.process = process.toHandle();
        vm.agent = awaitAgent(vm, process);
        vm.state = VmState.RUNNING;
        vm.detail = "";
        watch(vm, process);
        log.info("vm {} running (pid {}, {} cpu, {} MB, {})", vm.id, process.pid(), vm.spec.cpus(), vm.spec.memoryMb(), accelerator.wire());
    }

    // ---------------------------------------------------------------- thermal states

    @Override
    public void pause(String vmId) throws EngineException {
        QemuVm vm = known(vmId);
        vm.lifecycle.lock();
        try {
            if (vm.state == VmState.PAUSED) return;
            if (vm.state != VmState.RUNNING) throw notRunning(vm);
            long started = System.nanoTime();
            qmpOf(vm).execute("stop", null);
            vm.state = VmState.PAUSED;
            log.info("vm {} paused in {} us", vm.id, (System.nanoTime() - started) / 1000);
        } catch (IOException e) {
            throw new EngineException(Kind.FAILED, "could not pause: " + e.getMessage(), e);
        } finally {
            vm.lifecycle.unlock();
        }
    }

    @Override
    public void resume(String vmId) throws EngineException {
        QemuVm vm = known(vmId);
        vm.lifecycle.lock();
        try {
            if (vm.state == VmState.RUNNING) return;
            if (vm.state != VmState.PAUSED) throw notRunning(vm);
            long started = System.nanoTime();
            qmpOf(vm).execute("cont", null);
            vm.state = VmState.RUNNING;
            long resumed = System.nanoTime();
            correctClock(vm);
            log.info("vm {} resumed in {} us", vm.id, (resumed - started) / 1000);
        } catch (IOException e) {
            throw new EngineException(Kind.FAILED, "could not resume: " + e.getMessage(), e);
        } finally {
            vm.lifecycle.unlock();
        }
    }

    @Override
    public void suspend(String vmId) throws EngineException {
        QemuVm vm = known(vmId);
        vm.lifecycle.lock();
        try {
            if (vm.state == VmState.SUSPENDED) return;
            if (vm.state != VmState.RUNNING && vm.state != VmState.PAUSED) throw notRunning(vm);
            boolean wasRunning = vm.state == VmState.RUNNING;
            Qmp qmp = qmpOf(vm);
            long started = System.nanoTime();
            try {
                if (wasRunning) qmp.execute("stop", null);
                vm.state = VmState.PAUSED;
                writeSnapshot(vm, qmp, vm.paths.snapshotFiles());
            } catch (IOException | EngineException e) {
                if (vm.destroying) throw new EngineException(Kind.NOT_FOUND, "the sandbox was destroyed during the snapshot");
                if (wasRunning) {
                    try {
                        qmp.execute("cont", null);
                        vm.state = VmState.RUNNING;
                    } catch (IOException ignored) {
                        // left paused; the error below says what happened
                    }
                }
                throw e instanceof EngineException ee ? ee : new EngineException(Kind.FAILED, "could not snapshot: " + e.getMessage(), e);
            }
            long snapshotted = System.nanoTime();
            endProcess(vm, qmp);
            vm.state = VmState.SUSPENDED;
            vm.detail = "";
            log.info("vm {} suspended to disk in {} ms (snapshot {} ms, {} KiB)", vm.id, (System.nanoTime() - started) / 1_000_000,
                    (snapshotted - started) / 1_000_000, VmProcesses.sizeKib(vm.paths.memorySnapshot()));
        } catch (IOException e) {
            throw new EngineException(Kind.FAILED, "could not suspend: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(Kind.FAILED, "interrupted while suspending", e);
        } finally {
            vm.lifecycle.unlock();
        }
    }

    @Override
    public VmInfo start(String vmId, boolean coldBoot) throws EngineException {
        QemuVm vm = known(vmId);
        vm.lifecycle.lock();
        try {
            switch (vm.state) {
                case RUNNING -> { return info(vm); }
                case PAUSED -> {
                    resume(vmId);
                    return info(vm);
                }
                case STARTING -> throw new EngineException(Kind.CONFLICT, "the sandbox is starting");
                default -> { }
            }
            boolean haveSnapshot = Files.exists(vm.paths.memorySnapshot());
            if (!coldBoot && !haveSnapshot) {
                throw new EngineException(Kind.CONFLICT, "the sandbox has no snapshot to resume"
                        + (Files.exists(vm.paths.memorySnapshotFailed()) ? " (its last one failed to load)" : "")
                        + "; start --force boots it afresh from its disk (what was in memory is lost)");
            }
            if (vm.spec == null) vm.spec = SpecFile.read(vm.paths.spec());
            var p = vm.process;
            if (p != null) VmProcesses.stop(p); // an unresponsive VM that is to be booted again
            vm.process = null;
            // Its QMP and agent connections (an adoption opens QMP even when the agent then does not
            // answer) lead to the old process: a transition on the new one must not write into them.
            closeConnections(vm);
            if (coldBoot) {
                Files.deleteIfExists(vm.paths.memorySnapshot());
                boot(vm, List.of());
            } else {
                restore(vm, null);
            }
            return info(vm);
        } catch (IOException e) {
            throw new EngineException(Kind.FAILED, "could not start: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(Kind.FAILED, "interrupted while starting", e);
        } finally {
            vm.lifecycle.unlock();
        }
    }

    /**
     * Starts a new QEMU process that loads the snapshot, then lets it run. Only a snapshot that QEMU
     * refused is set aside (never retried in a loop; start --force then boots the disk). A slow load is
     * not a bad snapshot: until the guest runs, the snapshot still matches the disk, so it is kept for
     * the next try. Once the guest runs, its processes are what matters: a cold wake whose agent is slow
     * to answer keeps the VM running rather than killing it.
     */
    private void restore(QemuVm vm, String cloneHostname) throws IOException, EngineException, InterruptedException {
        long started = System.nanoTime();
        VmProcesses.deleteSockets(vm.paths);
        vm.state = VmState.STARTING;
        Process process = startQemu(vm, MemorySnapshot.incomingArgs(vm.paths.migrateSocket()));
        vm.process = process.toHandle();
        long loaded;
        SocketChannel agentChannel = null;
        try {
            long listenDeadline = System.nanoTime() + QEMU_LISTEN_TIMEOUT.toNanos();
            Qmp qmp = Qmp.over(VmProcesses.connectWhenListening(vm.paths.qmpSocket(), process.toHandle(), listenDeadline));
            vm.qmp = qmp;
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
        vm.state = VmState.RUNNING;
        vm.detail = "";
        watch(vm, process);
        if (cloneHostname != null) {
            try {
                if (vm.agent == null) throw new EngineException(Kind.FAILED, "the guest agent did not answer after the restore");
                takeNewIdentity(vm, cloneHostname); // a clone must never run with its origin's identity
            } catch (EngineException | RuntimeException e) {
                vm.process = null;
                closeConnections(vm);
                VmProcesses.stop(process.toHandle());
                jailer.release(vm.paths, vm.id);
                vm.state = VmState.STOPPED;
                vm.detail = "it could not take its own identity after the restore; start --force boots it from its disk";
                throw new EngineException(Kind.FAILED, "could not restore the sandbox: " + e.getMessage()
                        + "; start --force boots it from its disk", e);
            }
        } else if (vm.agent != null) {
            correctClock(vm);
        }
        log.info("vm {} restored in {} ms (load {} ms)", vm.id, (System.nanoTime() - started) / 1_000_000, (loaded - started) / 1_000_000);
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

    /** Ends a restore before its guest ran; the snapshot is set aside only when QEMU refused it. */
    private void abandonRestore(QemuVm vm, Process process, boolean snapshotRefused) throws IOException {
        vm.process = null;
        closeConnections(vm);
        VmProcesses.stop(process.toHandle());
        jailer.release(vm.paths, vm.id);
        if (snapshotRefused && Files.exists(vm.paths.memorySnapshot())) {
            Files.move(vm.paths.memorySnapshot(), vm.paths.memorySnapshotFailed(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
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
    private void takeNewIdentity(QemuVm vm, String hostname) throws EngineException, InterruptedException {
        byte[] entropy = new byte[64];
        RANDOM.nextBytes(entropy);
        String network = vm.spec.net() == null ? "" : vm.spec.net().wire();
        try {
            agentOf(vm).resumed(System.currentTimeMillis(), hostname, entropy, network);
        } catch (EngineException e) {
            // The restored guest reopened its agent port under the request (RandomKillIT saw it once in 30
            // clones); taking an identity twice is harmless, so it is asked again, once.
            if (!dev.bhatti.protocol.PeerRestartedException.isCause(e)) throw e;
            log.info("vm {}: the new identity was lost to the agent reopening its port; sending it again", vm.id);
            RANDOM.nextBytes(entropy);
            agentOf(vm).resumed(System.currentTimeMillis(), hostname, entropy, network);
        }
    }

    // ---------------------------------------------------------------- named snapshots

    @Override
    public long checkpoint(String vmId, String snapshotId) throws EngineException {
        Path dir = snapshots.dir(snapshotId);
        Path staging = SnapshotStore.staging(dir);
        QemuVm vm = known(vmId);
        vm.lifecycle.lock();
        try {
            if (Files.exists(dir)) throw new EngineException(Kind.CONFLICT, "snapshot " + snapshotId + " exists already");
            HostFiles.deleteTree(staging);
            Files.createDirectories(staging);
            if (vm.spec == null) vm.spec = SpecFile.read(vm.paths.spec());
            SpecFile.write(SnapshotStore.spec(staging), vm.spec);
            var files = new SnapshotFiles(staging);
            long started = System.nanoTime();
            switch (vm.state) {
                case SUSPENDED -> {
                    HostFiles.linkOrCopy(vm.paths.memorySnapshot(), files.memory());
                    HostFiles.copy(vm.paths.disk(), SnapshotStore.disk(staging));
                }
                case RUNNING, PAUSED -> captureLive(vm, files, SnapshotStore.disk(staging));
                default -> throw notRunning(vm);
            }
            HostFiles.sync(staging);
            Files.move(staging, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
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
    private void captureLive(QemuVm vm, SnapshotFiles files, Path diskCopy) throws IOException, EngineException, InterruptedException {
        boolean wasRunning = vm.state == VmState.RUNNING;
        Qmp qmp = qmpOf(vm);
        if (wasRunning) qmp.execute("stop", null);
        vm.state = VmState.PAUSED;
        try {
            writeSnapshot(vm, qmp, files);
            HostFiles.copy(vm.paths.disk(), diskCopy); // QEMU flushed and released the disk when the migration completed
        } finally {
            if (vm.destroying) throw new EngineException(Kind.NOT_FOUND, "the sandbox was destroyed during the snapshot");
            // cont also takes the disk back from a completed migration; a warm VM is then paused again
            qmp.execute("cont", null);
            if (wasRunning) {
                vm.state = VmState.RUNNING;
                correctClock(vm);
            } else {
                qmp.execute("stop", null);
            }
        }
    }

    @Override
    public VmInfo createFromSnapshot(String snapshotId, VmSpec spec) throws EngineException {
        Path dir = snapshots.dir(snapshotId);
        SnapshotStore.checkResumable(snapshots.savedSpec(snapshotId), spec);
        checkImages(spec.tier());
        return build(spec, vm -> {
            HostFiles.copy(SnapshotStore.disk(dir), vm.paths.disk());
            HostFiles.linkOrCopy(new SnapshotFiles(dir).memory(), vm.paths.memorySnapshot());
            restore(vm, spec.hostname());
        });
    }

    @Override
    public boolean snapshotHasNetwork(String snapshotId) throws EngineException {
        try {
            return snapshots.savedSpec(snapshotId).net() != null;
        } catch (EngineException e) {
            throw e.kind() == Kind.INVALID ? e : new EngineException(Kind.NOT_FOUND, "snapshot " + snapshotId + " is missing or unreadable on disk");
        }
    }

    @Override
    public void deleteSnapshot(String snapshotId) throws EngineException { snapshots.delete(snapshotId); }

    @Override
    public List<String> snapshots() { return snapshots.list(); }

    /**
     * Sets the guest's clock, which stood still while its vCPUs were stopped. Sent without waiting (a
     * wake-up must stay fast); a failure is logged, not fatal. A restored guest reopens its agent port,
     * which can cut the connection the correction went out on; it is then sent once more on a new one.
     */
    private void correctClock(QemuVm vm) { correctClock(vm, 1); }

    private void correctClock(QemuVm vm, int attempt) {
        try {
            agentOf(vm).resumedAsync(System.currentTimeMillis(), why -> {
                if (attempt < CLOCK_ATTEMPTS && vm.state == VmState.RUNNING && !vm.destroying) {
                    log.info("vm {}: the clock correction was lost ({}); sending it again", vm.id, why);
                    Thread.ofVirtual().start(() -> correctClock(vm, attempt + 1));
                } else if (vm.state == VmState.RUNNING) {
                    log.warn("vm {}: could not correct the guest clock: {}", vm.id, why);
                } else {
                    log.info("vm {}: clock correction dropped, the VM is {} again ({})", vm.id, vm.state, why); // corrected at its next wake
                }
            });
        } catch (EngineException e) {
            log.warn("vm {}: could not correct the guest clock: {}", vm.id, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Ends a VM process whose state has been saved: QMP quit, then signals if it lingers. */
    private void endProcess(QemuVm vm, Qmp qmp) {
        ProcessHandle p = vm.process;
        vm.process = null; // from here its exit is expected, not a crash
        try {
            qmp.execute("quit", null);
        } catch (IOException ignored) {
            // QEMU closes the socket as it quits
        }
        closeConnections(vm);
        if (p != null) {
            try {
                p.onExit().get(VmProcesses.STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                VmProcesses.stop(p);
            }
        }
        leftBehind(vm.paths, vm.id);
    }

    /**
     * Clears what a VM's ended QEMU leaves: its cgroups, and its sockets, which a jailed QEMU cannot
     * unlink itself (they were made as root, and their names lie outside its chroot).
     */
    private void leftBehind(VmPaths paths, String vmId) {
        jailer.release(paths, vmId);
        VmProcesses.deleteSockets(paths);
    }

    /** Streams a stopped VM's memory into {@code files} through the socket its QEMU may reach from its jail. */
    private void writeSnapshot(QemuVm vm, Qmp qmp, SnapshotFiles files) throws IOException, EngineException, InterruptedException {
        VmIdentity id = vm.identity != null ? vm.identity : jailer.recorded(vm.paths);
        jailer.openDir(vm.paths, id); // its directory's mode may have been reset since QEMU started
        Path socket = vm.paths.migrateSocket();
        MemorySnapshot.write(qmp, files, socket, "unix:" + jailer.inside(vm.paths, socket), s -> jailer.handOver(s, id), SNAPSHOT_TIMEOUT);
    }

    @Override
    public boolean hasFiles(String vmId) {
        return Files.exists(new VmPaths(config.sandboxesDir().resolve(vmId)).spec());
    }

    @Override
    public long diskUsage(String vmId) {
        Path dir = config.sandboxesDir().resolve(vmId);
        return Files.isDirectory(dir) ? HostFiles.usage(dir) : 0;
    }

    private QemuVm known(String vmId) throws EngineException {
        var vm = vms.get(vmId);
        if (vm == null) throw new EngineException(Kind.NOT_FOUND, "no such vm " + vmId);
        return vm;
    }

    private static EngineException notRunning(QemuVm vm) {
        return new EngineException(Kind.NOT_RUNNING, "sandbox is " + vm.state.wire() + (vm.detail.isEmpty() ? "" : ": " + vm.detail));
    }

    /** The VM's QMP connection, opened on first use (QEMU accepts one QMP client at a time). */
    private Qmp qmpOf(QemuVm vm) throws IOException {
        var q = vm.qmp;
        if (q != null && q.isOpen()) return q;
        vm.qmp = Qmp.connect(vm.paths.qmpSocket());
        return vm.qmp;
    }

    private static void closeConnections(QemuVm vm) {
        var a = vm.agent;
        vm.agent = null;
        if (a != null) a.close();
        var q = vm.qmp;
        vm.qmp = null;
        if (q != null) q.close();
    }

    @Override
    public Optional<VmInfo> info(String vmId) {
        var vm = vms.get(vmId);
        if (vm == null) return Optional.empty();
        // Exit notification of a process that is not our child arrives by polling; look directly too.
        var p = vm.process;
        if ((vm.state == VmState.RUNNING || vm.state == VmState.PAUSED) && p != null && !p.isAlive()) {
            exited(vm, p, VmState.ERROR, "the VM process ended");
        }
        return Optional.of(info(vm));
    }

    /**
     * After a daemon restart, whatever the previous daemon was doing: a live QEMU process is adopted as
     * running or paused; one caught mid-restore is ended (its snapshot is still complete); one caught
     * after its snapshot was written is ended (the VM is then cold); one caught mid-snapshot is resumed.
     * Without a process, a complete snapshot means cold, anything else stopped.
     */
    @Override
    public VmInfo adopt(String vmId) {
        var paths = new VmPaths(config.sandboxesDir().resolve(vmId));
        var vm = vms.computeIfAbsent(vmId, id -> new QemuVm(id, paths));
        vm.lifecycle.lock();
        try {
            if (vm.state == VmState.RUNNING || vm.state == VmState.PAUSED || vm.state == VmState.SUSPENDED) return info(vm);
            try {
                vm.spec = SpecFile.read(paths.spec());
            } catch (IOException e) {
                vm.state = VmState.ERROR;
                vm.detail = "its description is unreadable: " + e.getMessage();
                return info(vm);
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
                leftBehind(paths, vmId); // of a VM that ended while no daemon watched (a suspend's quit, then the kill)
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
        return info(vm);
    }

    /** Connects to a QEMU caught starting up (by a daemon killed mid-start): its socket may be moments away. */
    private static Qmp connectQmp(VmPaths paths, ProcessHandle process) throws IOException {
        long deadline = System.nanoTime() + ADOPT_TIMEOUT.toNanos();
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
            process.onExit().thenRun(() -> exited(vm, process, VmState.ERROR, "the VM process ended"));
            return;
        }
        boolean snapshotComplete = Files.exists(vm.paths.memorySnapshot());
        switch (runState) {
            case "inmigrate", "prelaunch", "postmigrate" -> {
                // a restore that did not finish, or a suspend whose snapshot is written: the file is what counts
                if (snapshotComplete) {
                    endProcess(vm, vm.qmp);
                    return;
                }
                if (!runState.equals("postmigrate")) {
                    endProcess(vm, vm.qmp);
                    return;
                }
                vm.qmp.execute("cont", null);
                runState = "running";
            }
            case "paused" -> {
                if (snapshotComplete) { // restored but never let run: the snapshot is still the truth
                    endProcess(vm, vm.qmp);
                    return;
                }
                if (vm.qmp.migrationStatus().equals("active")) vm.qmp.execute("migrate_cancel", null);
            }
            default -> { }
        }
        Files.deleteIfExists(vm.paths.memorySnapshot());
        process.onExit().thenRun(() -> exited(vm, process, VmState.ERROR, "the VM process ended"));
        if (runState.equals("paused")) {
            vm.state = VmState.PAUSED; // its agent cannot answer while paused; it is reached after resume
            vm.detail = "";
            return;
        }
        try {
            vm.agent = AgentClient.connect(vm.paths.agentSocket(), ADOPT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
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

    @Override
    public void destroy(String vmId) throws EngineException {
        var vm = vms.get(vmId);
        if (vm == null) vm = new QemuVm(vmId, new VmPaths(config.sandboxesDir().resolve(vmId)));
        vm.destroying = true;
        var p = vm.process;
        if (p != null) VmProcesses.stop(p); // a transition in progress (a snapshot, a restore) fails fast instead of being waited for
        vm.lifecycle.lock();
        try {
            if (vm.process == null) VmProcesses.runningQemu(vm.paths).ifPresent(VmProcesses::stop);
            cleanUp(vm);
        } finally {
            vm.lifecycle.unlock();
        }
        if (Files.exists(vm.paths.dir())) {
            throw new EngineException(Kind.FAILED, "could not remove " + vm.paths.dir());
        }
    }

    @Override
    public Guest guest(String vmId) { return new AgentGuest(() -> agentOf(runningVm(vmId))); }

    /** Leaves VMs running (the next daemon adopts them) but drops the connections to them. */
    @Override
    public void close() {
        vms.values().forEach(QemuEngine::closeConnections);
    }

    private QemuVm runningVm(String vmId) throws EngineException {
        var vm = vms.get(vmId);
        if (vm == null) throw new EngineException(Kind.NOT_FOUND, "no such vm " + vmId);
        if (vm.state != VmState.RUNNING) {
            throw new EngineException(Kind.NOT_RUNNING, "sandbox is " + vm.state.wire() + (vm.detail.isEmpty() ? "" : ": " + vm.detail));
        }
        return vm;
    }

    private VmInfo info(QemuVm vm) {
        return new VmInfo(vm.id, vm.state, name(), accelerator.wire(), vm.pid(), vm.detail);
    }

    private void checkImages(String tier) throws EngineException {
        if (!Files.isRegularFile(images.rootfs(tier))) {
            var known = images.tiers();
            throw new EngineException(Kind.INVALID, "no image for tier '" + tier + "'"
                    + (known.isEmpty() ? "; build one with: bhatti tier build minimal" : "; available: " + String.join(", ", known)));
        }
        for (Path p : List.of(images.kernel(), images.initramfs())) {
            if (!Files.isRegularFile(p)) {
                throw new EngineException(Kind.INVALID, "missing " + p + "; rebuild the images with: bhatti tier build " + tier);
            }
        }
    }

    private void createDisk(String tier, VmPaths paths) throws IOException, InterruptedException, EngineException {
        var pb = new ProcessBuilder(config.qemuImg(), "create", "-q", "-f", "qcow2", "-F", "raw",
                "-b", HostFiles.pinned(images.rootfs(tier)).toString(), paths.disk().toString())
                .redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new EngineException(Kind.FAILED, "qemu-img create failed: " + out.strip());
    }

    /**
     * Starts the VM's QEMU in its jail: its cgroups (entered before QEMU's first instruction), its ids and
     * chroot, seccomp, and an environment holding nothing but PATH.
     */
    private Process startQemu(QemuVm vm, List<String> extraArgs) throws IOException {
        VmSpec spec = vm.spec;
        VmPaths paths = vm.paths;
        VmIdentity id = jailer.prepare(paths, spec, accelerator);
        vm.identity = id;
        var argv = new ArrayList<String>();
        // The launcher's shell, `ip netns exec` and setsid all exec in place: the pid stays QEMU's. The
        // launcher goes first: it enters the cgroups through the host's /sys, which `ip netns exec`
        // replaces with the namespace's (where the VM's cgroup directories do not exist).
        argv.addAll(jailer.launcher(id, paths));
        if (config.netns() != null) argv.addAll(List.of("ip", "netns", "exec", config.netns()));
        argv.addAll(jailer.tapOpener(spec));
        argv.add("setsid"); // own session: a Ctrl-C to the daemon must not kill the VMs
        argv.addAll(command.argv(spec, paths, images, jailer.enabled()));
        argv.addAll(jailer.qemuArgs(id, paths));
        argv.addAll(extraArgs);
        var pb = new ProcessBuilder(argv).directory(paths.dir().toFile());
        pb.environment().clear();
        pb.environment().putAll(Jailer.ENVIRONMENT);
        pb.redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(paths.qemuLog().toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        return pb.start();
    }

    /**
     * Waits for the agent's hello while checking every second that QEMU still runs and that the console
     * shows no fatal boot error, so a broken boot fails fast with its reason instead of timing out.
     */
    private AgentClient awaitAgent(QemuVm vm, Process process) throws EngineException, InterruptedException {
        long deadline = System.nanoTime() + config.bootTimeout().toNanos();
        var result = new CompletableFuture<AgentClient>();
        Thread connecting = Thread.ofVirtual().start(() -> {
            try {
                var channel = VmProcesses.connectWhenListening(vm.paths.agentSocket(), process.toHandle(), deadline);
                result.complete(AgentClient.over(channel, config.bootTimeout().toMillis(), TimeUnit.MILLISECONDS));
            } catch (Exception e) {
                result.completeExceptionally(e);
            }
        });
        try {
            while (true) {
                try {
                    return result.get(1, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    failIfBootEnded(vm, process);
                    if (System.nanoTime() > deadline) {
                        throw bootFailure(vm, "the guest agent did not answer within " + config.bootTimeout().toSeconds() + " s");
                    }
                } catch (ExecutionException e) {
                    failIfBootEnded(vm, process); // a lost connection is the symptom; say the cause when there is one
                    throw bootFailure(vm, "agent connection failed: " + e.getCause());
                }
            }
        } finally {
            if (!result.isDone()) {
                connecting.interrupt();
                result.thenAccept(AgentClient::close);
            }
        }
    }

    /**
     * Throws when the boot cannot succeed any more: the console shows a fatal error (checked first, as
     * the guest powers off after it and QEMU then exits) or QEMU has exited.
     */
    private void failIfBootEnded(QemuVm vm, Process process) throws EngineException {
        String fatal = VmProcesses.fatalConsoleLine(vm.paths);
        if (fatal != null) throw bootFailure(vm, fatal);
        if (!process.isAlive()) throw bootFailure(vm, "QEMU exited with code " + process.exitValue() + " during boot");
    }

    private EngineException bootFailure(QemuVm vm, String reason) {
        String tail = VmProcesses.tail(vm.paths.console(), 15) + VmProcesses.tail(vm.paths.qemuLog(), 5);
        return new EngineException(Kind.FAILED, "boot failed: " + reason + (tail.isBlank() ? "" : "\n--- console ---\n" + tail));
    }

    private void watch(QemuVm vm, Process process) {
        ProcessHandle handle = process.toHandle();
        process.onExit().thenAccept(p -> {
            int code = p.exitValue();
            if (code == 0) {
                exited(vm, handle, VmState.STOPPED, "the guest shut down");
            } else {
                exited(vm, handle, VmState.ERROR, "the VM process ended with code " + code
                        + (code > 128 ? " (killed by signal " + (code - 128) + ")" : ""));
            }
        });
    }

    /** A VM process ended. Ignored unless it is still the VM's current process (not one ended on purpose). */
    private void exited(QemuVm vm, ProcessHandle process, VmState state, String reason) {
        synchronized (vm) {
            if (!process.equals(vm.process) || vm.destroying) return;
            leftBehind(vm.paths, vm.id);
            if (vm.state == VmState.STOPPED || vm.state == VmState.ERROR || vm.state == VmState.SUSPENDED) return; // reported already
            vm.state = state;
            vm.detail = reason;
        }
        closeConnections(vm);
        log.warn("vm {}: {}", vm.id, reason);
        for (var l : listeners) {
            try {
                l.changed(vm.id, state, reason); // the state it ended in, not whatever a new start set since
            } catch (RuntimeException e) {
                log.error("state listener failed", e);
            }
        }
    }

    /** The live agent connection, reconnecting once if the channel dropped while QEMU still runs. */
    private AgentClient agentOf(QemuVm vm) throws EngineException, InterruptedException {
        var a = vm.agent;
        if (a != null && a.isOpen()) return a;
        vm.agentLock.lock();
        try {
            a = vm.agent;
            if (a != null && a.isOpen()) return a;
            var p = vm.process;
            if (p == null || !p.isAlive()) throw new EngineException(Kind.NOT_RUNNING, "the VM process is not running");
            vm.agent = AgentClient.connect(vm.paths.agentSocket(), ADOPT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return vm.agent;
        } catch (IOException | TimeoutException e) {
            throw new EngineException(Kind.FAILED, "cannot reach the sandbox's agent: " + e.getMessage(), e);
        } finally {
            vm.agentLock.unlock();
        }
    }

    /** Kills the process, closes the channel and deletes every file of the VM. */
    private void cleanUp(QemuVm vm) {
        vm.destroying = true;
        closeConnections(vm);
        var p = vm.process;
        if (p != null) VmProcesses.stop(p);
        jailer.release(vm.paths, vm.id);
        vm.state = VmState.STOPPED;
        vms.remove(vm.id, vm);
        HostFiles.deleteTree(vm.paths.dir());
    }
}

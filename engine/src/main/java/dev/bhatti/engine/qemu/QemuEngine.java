package dev.bhatti.engine.qemu;

import dev.bhatti.engine.Engine;
import dev.bhatti.engine.Guest;
import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.EngineException.Kind;
import dev.bhatti.engine.VmInfo;
import dev.bhatti.engine.VmSpec;
import dev.bhatti.engine.VmState;
import dev.bhatti.engine.VolumeDisk;
import dev.bhatti.engine.agent.AgentGuest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs each VM as its own QEMU process in its own session, so VMs outlive a daemon restart and are
 * adopted again by the next daemon. This class keeps the registry of VMs and their thermal transitions
 * (pause, resume, suspend, start, destroy), one at a time per VM; booting ({@link VmBoot}), restoring
 * ({@link Restorer}), snapshots ({@link Checkpoints}), adoption ({@link Adoption}) and exits
 * ({@link ExitWatcher}) each have their own class.
 */
public final class QemuEngine implements Engine {
    private static final Logger log = LoggerFactory.getLogger(QemuEngine.class);

    private final EngineConfig config;
    private final Accelerator accelerator;
    private final ImageCatalog images;
    private final SnapshotStore snapshots;
    private final Jailer jailer;
    private final ExitWatcher exits;
    private final VmBoot boot;
    private final Restorer restorer;
    private final Checkpoints checkpoints;
    private final DiskExport exports;
    private final Adoption adoption;
    private final Templates templates;
    private final Map<String, QemuVm> vms = new ConcurrentHashMap<>();

    public QemuEngine(EngineConfig config) {
        this.config = config;
        this.accelerator = Accelerator.detect(config.accel());
        this.images = new ImageCatalog(config.imagesDir());
        this.snapshots = new SnapshotStore(config.snapshotsDir());
        var command = new QemuCommand(config.qemuBinary(), accelerator, HostCpu.tscKhz(Path.of("/proc/cpuinfo")));
        this.jailer = Jailer.forHost(config.jail(), config.sandboxesDir());
        this.exits = new ExitWatcher(jailer);
        this.boot = new VmBoot(config, accelerator, images, command, jailer, exits);
        this.restorer = new Restorer(config, boot, jailer, exits);
        this.checkpoints = new Checkpoints(snapshots, jailer);
        this.exports = new DiskExport(config);
        this.adoption = new Adoption(jailer, exits);
        this.templates = new Templates(config.templatesDir(), jailer, command, images, config.qemuBinary());
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

    @Override public void onStateChange(StateListener listener) { exits.onStateChange(listener); }

    @Override
    public VmInfo create(VmSpec requested) throws EngineException {
        boot.checkImages(requested);
        VmSpec spec;
        try {
            spec = boot.pinned(requested).withBalloon(true).withMemoryFile(config.memoryFile());
        } catch (IOException e) {
            throw new EngineException(Kind.FAILED, "cannot pin the base image of " + requested.id() + ": " + e.getMessage(), e);
        }
        Optional<String> template = templates.idFor(spec);
        if (template.isPresent()) {
            Optional<Path> dir = templates.find(template.get());
            if (dir.isPresent()) {
                try {
                    return fromTemplate(template.get(), dir.get(), spec);
                } catch (EngineException e) {
                    // whatever failed, a boot still gives the user the VM; the next one takes a fresh template
                    log.warn("vm {}: restoring template {} failed, booting instead: {}", spec.id(), template.get(), e.getMessage());
                    templates.discard(template.get());
                }
            }
        }
        // The first VM of its kind boots neutral, becomes the template, then takes its own identity.
        boolean capture = template.isPresent() && templates.claim(template.get(), spec);
        try {
            return build(spec, vm -> {
                boot.createDisk(spec, vm.paths);
                boot.boot(vm, List.of(), capture);
                if (capture) {
                    templates.capture(vm, template.get());
                    restorer.takeNewIdentity(vm, spec.hostname());
                }
            });
        } finally {
            if (capture) templates.release(template.get());
        }
    }

    /** A new VM from a booted template: the template's memory and disk, then its own identity. */
    private VmInfo fromTemplate(String templateId, Path dir, VmSpec requested) throws EngineException {
        VmSpec saved = templates.savedSpec(templateId);
        SnapshotStore.checkResumable(saved, requested);
        VmSpec spec = requested.withMemoryFile(saved.memoryFile());
        long started = System.nanoTime();
        VmInfo info = build(spec, vm -> {
            copySnapshot(dir, vm, spec);
            restorer.restore(vm, spec.hostname());
        });
        log.info("vm {} created from template {} in {} ms", spec.id(), templateId, (System.nanoTime() - started) / 1_000_000);
        return info;
    }

    /**
     * A snapshot's disk, device state and memory file into a new VM's directory. The memory file's copy is
     * not synced: it is the new VM's live memory, made durable by its first stop.
     */
    private static void copySnapshot(Path dir, QemuVm vm, VmSpec spec) throws IOException {
        var files = new SnapshotFiles(dir);
        if (spec.memoryFile()) HostFiles.copyUnsynced(files.ram(), vm.paths.ram());
        HostFiles.copy(SnapshotStore.disk(dir), vm.paths.disk());
        HostFiles.linkOrCopy(files.memory(), vm.paths.memorySnapshot());
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

    // ---------------------------------------------------------------- thermal states

    @Override
    public void pause(String vmId) throws EngineException {
        QemuVm vm = known(vmId);
        vm.lifecycle.lock();
        try {
            if (vm.state == VmState.PAUSED) return;
            if (vm.state != VmState.RUNNING) throw vm.notRunning();
            long started = System.nanoTime();
            vm.qmp().execute("stop", null);
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
            if (vm.state != VmState.PAUSED) throw vm.notRunning();
            long started = System.nanoTime();
            vm.qmp().execute("cont", null);
            vm.state = VmState.RUNNING;
            long resumed = System.nanoTime();
            GuestClock.correct(vm);
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
            if (vm.state != VmState.RUNNING && vm.state != VmState.PAUSED) throw vm.notRunning();
            boolean wasRunning = vm.state == VmState.RUNNING;
            Qmp qmp = vm.qmp();
            long started = System.nanoTime();
            try {
                if (wasRunning) qmp.execute("stop", null);
                vm.state = VmState.PAUSED;
                checkpoints.writeMemory(vm, qmp, vm.paths.snapshotFiles());
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
            exits.endProcess(vm, qmp);
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
            vm.closeConnections();
            if (coldBoot) {
                Files.deleteIfExists(vm.paths.memorySnapshot());
                boot.boot(vm, List.of());
            } else {
                restorer.restore(vm, null);
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

    // ---------------------------------------------------------------- named snapshots

    @Override
    public long checkpoint(String vmId, String snapshotId) throws EngineException {
        return checkpoints.checkpoint(known(vmId), snapshotId);
    }

    @Override
    public long checkpointDisk(String vmId, String snapshotId) throws EngineException {
        return checkpoints.checkpoint(known(vmId), snapshotId, false);
    }

    @Override
    public VmInfo createFromSnapshot(String snapshotId, VmSpec requested) throws EngineException {
        Path dir = snapshots.dir(snapshotId);
        VmSpec saved = snapshots.savedSpec(snapshotId);
        SnapshotStore.checkResumable(saved, requested);
        // the image and tools disk the snapshot was taken with: its memory knows no other; its volumes are
        // the server's files, mounted where the guest's memory has them
        VmSpec spec = (saved.fromImage() ? requested.withImage(saved.rootfs(), saved.tools()) : requested)
                .withBalloon(saved.balloon()).withMemoryFile(saved.memoryFile());
        var volumes = new ArrayList<VolumeDisk>();
        for (int i = 0; i < spec.volumes().size(); i++) {
            volumes.add(new VolumeDisk(spec.volumes().get(i).file(), saved.volumes().get(i).mount(), saved.volumes().get(i).readOnly()));
        }
        spec = spec.withVolumes(volumes);
        boot.checkImages(spec);
        VmSpec resumed = spec;
        if (Files.exists(SnapshotStore.diskOnly(dir))) {
            return build(resumed, vm -> { // a filesystem snapshot: its disk, booted afresh with the new identity
                HostFiles.copy(SnapshotStore.disk(dir), vm.paths.disk());
                boot.boot(vm, List.of());
            });
        }
        return build(resumed, vm -> {
            copySnapshot(dir, vm, resumed);
            restorer.restore(vm, resumed.hostname());
        });
    }

    @Override
    public List<Path> snapshotVolumes(String snapshotId) throws EngineException {
        Path dir = snapshots.dir(snapshotId);
        int n = snapshots.savedSpec(snapshotId).volumes().size();
        var files = new ArrayList<Path>();
        for (int i = 0; i < n; i++) files.add(SnapshotStore.volume(dir, i));
        return files;
    }

    @Override
    public <T> T whileStill(String vmId, StillWork<T> work) throws EngineException {
        QemuVm vm = known(vmId);
        vm.lifecycle.lock();
        try {
            if (vm.state != VmState.RUNNING) return work.run(); // paused, cold or stopped: nothing moves
            Qmp qmp = vm.qmp();
            qmp.execute("stop", null); // also flushes what QEMU buffers to the files
            vm.state = VmState.PAUSED;
            try {
                return work.run();
            } finally {
                if (!vm.destroying) {
                    qmp.execute("cont", null);
                    vm.state = VmState.RUNNING;
                    GuestClock.correct(vm);
                }
            }
        } catch (IOException e) {
            throw new EngineException(Kind.FAILED, e.getMessage(), e);
        } finally {
            vm.lifecycle.unlock();
        }
    }

    @Override
    public long exportDisk(String vmId, Path target) throws EngineException { return exports.export(known(vmId), target); }

    @Override
    public boolean snapshotHasNetwork(String snapshotId) throws EngineException {
        try {
            return snapshots.savedSpec(snapshotId).net() != null;
        } catch (EngineException e) {
            throw e.kind() == Kind.INVALID ? e : new EngineException(Kind.NOT_FOUND, "snapshot " + snapshotId + " is missing or unreadable on disk");
        }
    }

    @Override
    public void deleteSnapshot(String snapshotId) throws EngineException {
        snapshots.delete(snapshotId);
        pruneUnusedBases();
    }

    @Override
    public int pruneUnusedBases() {
        templates.dropStale();
        var dirs = new ArrayList<Path>(templates.dirs());
        for (Path parent : List.of(config.sandboxesDir(), config.snapshotsDir())) {
            if (!Files.isDirectory(parent)) continue;
            try (var children = Files.list(parent)) {
                children.filter(Files::isDirectory).forEach(dirs::add);
            } catch (IOException e) {
                log.warn("cannot list {}: {}; keeping every pinned base", parent, e.getMessage());
                return 0;
            }
        }
        return BasePins.prune(config.imagesDir(), dirs);
    }

    @Override
    public List<String> snapshots() { return snapshots.list(); }

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

    @Override
    public Optional<VmInfo> info(String vmId) {
        var vm = vms.get(vmId);
        if (vm == null) return Optional.empty();
        // Exit notification of a process that is not our child arrives by polling; look directly too.
        var p = vm.process;
        if ((vm.state == VmState.RUNNING || vm.state == VmState.PAUSED) && p != null && !p.isAlive()) {
            exits.exited(vm, p, VmState.ERROR, "the VM process ended");
        }
        return Optional.of(info(vm));
    }

    @Override
    public VmInfo adopt(String vmId) {
        var vm = vms.computeIfAbsent(vmId, id -> new QemuVm(id, new VmPaths(config.sandboxesDir().resolve(id))));
        adoption.adopt(vm);
        return info(vm);
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
        pruneUnusedBases(); // the last VM of a deleted image lets its file go
    }

    @Override
    public Guest guest(String vmId) { return new AgentGuest(() -> runningVm(vmId).liveAgent()); }

    /** Leaves VMs running (the next daemon adopts them) but drops the connections to them. */
    @Override
    public void close() {
        vms.values().forEach(QemuVm::closeConnections);
    }

    private QemuVm runningVm(String vmId) throws EngineException {
        var vm = vms.get(vmId);
        if (vm == null) throw new EngineException(Kind.NOT_FOUND, "no such vm " + vmId);
        if (vm.state != VmState.RUNNING) throw vm.notRunning();
        return vm;
    }

    private VmInfo info(QemuVm vm) {
        return new VmInfo(vm.id, vm.state, name(), accelerator.wire(), vm.pid(), vm.detail);
    }

    /** Kills the process, closes the channel and deletes every file of the VM. */
    private void cleanUp(QemuVm vm) {
        vm.destroying = true;
        vm.closeConnections();
        var p = vm.process;
        if (p != null) VmProcesses.stop(p);
        jailer.release(vm.paths, vm.id);
        vm.state = VmState.STOPPED;
        vms.remove(vm.id, vm);
        HostFiles.deleteTree(vm.paths.dir());
    }
}

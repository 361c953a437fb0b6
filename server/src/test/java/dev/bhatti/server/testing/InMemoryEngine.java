package dev.bhatti.server.testing;

import dev.bhatti.engine.Detached;
import dev.bhatti.engine.Engine;
import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.EngineException.Kind;
import dev.bhatti.engine.ExecCommand;
import dev.bhatti.engine.ExecListener;
import dev.bhatti.engine.ExecResult;
import dev.bhatti.engine.FileListing;
import dev.bhatti.engine.FileSink;
import dev.bhatti.engine.Guest;
import dev.bhatti.engine.VolumeDisk;
import dev.bhatti.engine.GuestFile;
import dev.bhatti.engine.GuestSession;
import dev.bhatti.engine.ReadRange;
import dev.bhatti.engine.SessionChannel;
import dev.bhatti.engine.SessionOpen;
import dev.bhatti.engine.VmInfo;
import dev.bhatti.engine.VmSpec;
import dev.bhatti.engine.VmState;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An engine whose VMs are entries in a map: the thermal states and their rules (what may follow
 * what, what a guest call needs) without QEMU, so that the logic above the engine is tested in
 * milliseconds. A test fixture, not a model of a VM: guest calls answer as a healthy agent would.
 * Every operation is logged in {@link #calls} ("pause sb1"), and {@link #failNext} makes one fail.
 */
public final class InMemoryEngine implements Engine {

    /** One VM: its spec, its state, its files, what its guest was sent. */
    private static final class Vm {
        final VmSpec spec;
        volatile VmState state;
        volatile String detail = "";
        final Map<String, byte[]> files = new ConcurrentHashMap<>();

        Vm(VmSpec spec, VmState state) {
            this.spec = spec;
            this.state = state;
        }
    }

    private final Map<String, Vm> vms = new ConcurrentHashMap<>();
    private final Map<String, VmSpec> snapshots = new ConcurrentHashMap<>();
    private final Map<String, VmState> afterRestart = new ConcurrentHashMap<>();
    private final List<StateListener> listeners = new CopyOnWriteArrayList<>();
    private final Map<String, EngineException> failures = new ConcurrentHashMap<>();
    /** Every operation in the order it ran, as "op vmId". */
    public final Queue<String> calls = new ConcurrentLinkedQueue<>();
    /** Bytes each named snapshot takes. */
    public volatile long snapshotBytes = 1 << 20;

    @Override public String name() { return "memory"; }

    @Override public List<String> tiers() { return List.of("minimal"); }

    @Override public void onStateChange(StateListener listener) { listeners.add(listener); }

    /** The next {@code op} ("create", "pause", "exec"...) throws {@code kind} with {@code message}. */
    public void failNext(String op, Kind kind, String message) { failures.put(op, new EngineException(kind, message)); }

    private void call(String op, String vmId) throws EngineException {
        calls.add(op + " " + vmId);
        EngineException e = failures.remove(op);
        if (e != null) throw e;
    }

    /** How many times {@code op} ran on {@code vmId}. */
    public long count(String op, String vmId) { return calls.stream().filter((op + " " + vmId)::equals).count(); }

    public VmState state(String vmId) { return vms.get(vmId).state; }

    /** The VM's process ends on its own (a crash): the engine tells its listeners, as QEMU's exit watcher does. */
    public void crash(String vmId, String reason) {
        Vm vm = vms.get(vmId);
        vm.state = VmState.ERROR;
        vm.detail = reason;
        listeners.forEach(l -> l.changed(vmId, VmState.ERROR, reason));
    }

    /** What {@link #adopt} finds after a daemon restart: the VM in {@code state} (files kept). */
    public void leftByLastDaemon(VmSpec spec, VmState state) {
        vms.put(spec.id(), new Vm(spec, VmState.STOPPED));
        afterRestart.put(spec.id(), state);
    }

    /** A file in the guest, as a test or the create's configuration left it. */
    public Optional<String> guestFile(String vmId, String path) {
        return Optional.ofNullable(vms.get(vmId).files.get(path)).map(b -> new String(b, StandardCharsets.UTF_8));
    }

    @Override
    public VmInfo create(VmSpec spec) throws EngineException {
        call("create", spec.id());
        if (vms.putIfAbsent(spec.id(), new Vm(spec, VmState.RUNNING)) != null) throw new EngineException(Kind.INVALID, "exists");
        return info(spec.id()).orElseThrow();
    }

    @Override
    public Optional<VmInfo> info(String vmId) {
        Vm vm = vms.get(vmId);
        return vm == null ? Optional.empty() : Optional.of(new VmInfo(vmId, vm.state, name(), "tcg", 1, vm.detail));
    }

    @Override public boolean hasFiles(String vmId) { return vms.containsKey(vmId); }

    @Override
    public VmInfo adopt(String vmId) {
        calls.add("adopt " + vmId);
        Vm vm = vms.get(vmId);
        VmState state = afterRestart.remove(vmId);
        if (state != null) vm.state = state;
        return info(vmId).orElseThrow();
    }

    private Vm known(String vmId) throws EngineException {
        Vm vm = vms.get(vmId);
        if (vm == null) throw new EngineException(Kind.NOT_FOUND, "no such vm " + vmId);
        return vm;
    }

    private static EngineException notRunning(Vm vm) {
        return new EngineException(Kind.NOT_RUNNING, "sandbox is " + vm.state.wire() + (vm.detail.isEmpty() ? "" : ": " + vm.detail));
    }

    /** A transition: a no-op in {@code to} already, from {@code from} it moves, from anything else it is refused. */
    private synchronized void move(String op, String vmId, VmState from, VmState to) throws EngineException {
        Vm vm = known(vmId);
        call(op, vmId);
        if (vm.state == to) return;
        if (vm.state != from) throw notRunning(vm);
        vm.state = to;
    }

    @Override public void pause(String vmId) throws EngineException { move("pause", vmId, VmState.RUNNING, VmState.PAUSED); }

    @Override public void resume(String vmId) throws EngineException { move("resume", vmId, VmState.PAUSED, VmState.RUNNING); }

    @Override
    public synchronized void suspend(String vmId) throws EngineException {
        Vm vm = known(vmId);
        call("suspend", vmId);
        if (vm.state == VmState.SUSPENDED) return;
        if (vm.state != VmState.RUNNING && vm.state != VmState.PAUSED) throw notRunning(vm);
        vm.state = VmState.SUSPENDED;
    }

    @Override
    public synchronized VmInfo start(String vmId, boolean coldBoot) throws EngineException {
        Vm vm = known(vmId);
        call("start", vmId);
        switch (vm.state) {
            case RUNNING, PAUSED -> vm.state = VmState.RUNNING;
            case SUSPENDED -> vm.state = VmState.RUNNING;
            default -> {
                if (!coldBoot) throw new EngineException(Kind.CONFLICT, "the sandbox has no snapshot to resume; start --force boots it");
                vm.state = VmState.RUNNING;
            }
        }
        vm.detail = "";
        return info(vmId).orElseThrow();
    }

    @Override
    public synchronized long checkpoint(String vmId, String snapshotId) throws EngineException {
        Vm vm = known(vmId);
        call("checkpoint", vmId);
        if (vm.state == VmState.STOPPED || vm.state == VmState.ERROR) throw notRunning(vm);
        snapshots.put(snapshotId, vm.spec);
        return snapshotBytes;
    }

    @Override
    public long checkpointDisk(String vmId, String snapshotId) throws EngineException { return checkpoint(vmId, snapshotId); }

    @Override
    public VmInfo createFromSnapshot(String snapshotId, VmSpec spec) throws EngineException {
        call("createFromSnapshot", spec.id());
        if (!snapshots.containsKey(snapshotId)) throw new EngineException(Kind.NOT_FOUND, "snapshot " + snapshotId + " is missing");
        vms.put(spec.id(), new Vm(spec, VmState.RUNNING));
        return info(spec.id()).orElseThrow();
    }

    @Override public boolean snapshotHasNetwork(String snapshotId) { return false; }

    /** What the VM was created with. */
    public VmSpec spec(String vmId) { return vms.get(vmId).spec; }

    /** No copies here: the volume files the snapshot's VM had (enough for the logic above the engine). */
    @Override
    public List<Path> snapshotVolumes(String snapshotId) throws EngineException {
        VmSpec spec = snapshots.get(snapshotId);
        if (spec == null) throw new EngineException(Kind.NOT_FOUND, "snapshot " + snapshotId + " is missing");
        return spec.volumes().stream().map(VolumeDisk::file).toList();
    }

    @Override
    public <T> T whileStill(String vmId, StillWork<T> work) throws EngineException {
        known(vmId);
        try {
            return work.run();
        } catch (IOException e) {
            throw new EngineException(Kind.FAILED, e.getMessage(), e);
        }
    }

    @Override
    public void deleteSnapshot(String snapshotId) throws EngineException {
        call("deleteSnapshot", snapshotId);
        snapshots.remove(snapshotId);
    }

    @Override public List<String> snapshots() { return List.copyOf(snapshots.keySet()); }

    /** Files of a snapshot no store row names, as a crash mid-checkpoint leaves them. */
    public void orphanSnapshot(String snapshotId, VmSpec spec) { snapshots.put(snapshotId, spec); }

    @Override public long diskUsage(String vmId) { return 0; }

    @Override public int pruneUnusedBases() { return 0; }

    @Override
    public long exportDisk(String vmId, Path target) throws EngineException {
        call("exportDisk", vmId);
        try {
            return Files.write(target, ("disk of " + vmId).getBytes(StandardCharsets.UTF_8)).toFile().length();
        } catch (IOException e) {
            throw new EngineException(EngineException.Kind.FAILED, e.getMessage(), e);
        }
    }

    @Override
    public void destroy(String vmId) throws EngineException {
        call("destroy", vmId);
        vms.remove(vmId);
    }

    @Override public Guest guest(String vmId) { return new MemoryGuest(vmId); }

    @Override public void close() { }

    /** A guest that answers as a healthy agent would, and only while its VM runs. */
    private final class MemoryGuest implements Guest {
        private final String vmId;

        MemoryGuest(String vmId) { this.vmId = vmId; }

        private Vm running(String op) throws EngineException {
            Vm vm = known(vmId);
            call(op, vmId);
            if (vm.state != VmState.RUNNING) throw notRunning(vm);
            return vm;
        }

        @Override
        public ExecResult exec(ExecCommand command, ExecListener listener) throws EngineException {
            running("exec");
            listener.stdout(String.join(" ", command.argv()).getBytes(StandardCharsets.UTF_8));
            return new ExecResult(0, false);
        }

        @Override
        public Detached execDetached(ExecCommand command, String outputFile) throws EngineException {
            running("execDetached");
            return new Detached(42, outputFile);
        }

        @Override
        public void readFile(String path, ReadRange range, FileSink sink) throws EngineException {
            byte[] content = running("readFile").files.get(path);
            if (content == null) throw new EngineException(Kind.MISSING, "no such file: " + path);
            try {
                sink.data(content);
            } catch (IOException e) {
                throw new EngineException(Kind.FAILED, e.getMessage(), e);
            }
        }

        @Override
        public GuestFile writeFile(String path, int mode, String user, InputStream content) throws EngineException {
            Vm vm = running("writeFile");
            try {
                byte[] bytes = content.readAllBytes();
                vm.files.put(path, bytes);
                return new GuestFile(path, bytes.length, mode, "file", System.currentTimeMillis());
            } catch (IOException e) {
                throw new EngineException(Kind.FAILED, e.getMessage(), e);
            }
        }

        @Override
        public GuestFile statFile(String path) throws EngineException {
            byte[] content = running("statFile").files.get(path);
            if (content == null) throw new EngineException(Kind.MISSING, "no such file: " + path);
            return new GuestFile(path, content.length, 0644, "file", 0);
        }

        @Override
        public FileListing listFiles(String path) throws EngineException {
            running("listFiles");
            return new FileListing(List.of(), 0);
        }

        @Override
        public SessionChannel openSession(SessionOpen open) throws EngineException {
            running("openSession");
            throw new EngineException(Kind.INVALID, "sessions are not part of the in-memory engine");
        }

        @Override
        public List<GuestSession> listSessions() throws EngineException {
            running("listSessions");
            return List.of();
        }

        @Override
        public void signalSession(String sessionId, int signal) throws EngineException {
            running("signalSession");
            throw new EngineException(Kind.MISSING, "no session " + sessionId);
        }

        @Override
        public void tunnel(int guestPort, SocketChannel client, Runnable beforeClientBytes) throws EngineException {
            running("tunnel");
        }
    }
}

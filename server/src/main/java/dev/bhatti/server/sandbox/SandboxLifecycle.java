package dev.bhatti.server.sandbox;

import dev.bhatti.engine.Engine;
import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.Guest;
import dev.bhatti.engine.VmInfo;
import dev.bhatti.engine.VmState;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.events.Events;
import dev.bhatti.server.metrics.Metrics;
import dev.bhatti.server.net.NetworkException;
import dev.bhatti.server.net.SandboxNetwork;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.SandboxStatus;
import dev.bhatti.server.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * The one owner of each sandbox's lifecycle: its gate (a request waking it and the thermal manager
 * cooling it never overlap), its stored status, the wake-on-request rule and every transition between
 * hot, warm and cold. Every status write is here. Reads write nothing: they see the engine's truth
 * ({@link #current}); the row follows the transitions made here and the engine's own reports (a VM
 * that died). Each transition's time, and each wake by use, goes to the metrics here.
 */
public final class SandboxLifecycle {
    private static final Logger log = LoggerFactory.getLogger(SandboxLifecycle.class);

    private final Store store;
    private final Engine engine;
    private final Activity activity;
    private final SandboxNetwork network;
    private final Events events;
    private final Metrics metrics;

    /** What used a warm or cold sandbox and so woke it (a label of the wake metrics). */
    public enum Waker {
        /** A request to the API (exec, files, a shell...). */
        API,
        /** A request to one of its published ports, through the public proxy. */
        PROXY,
        /** A connection to one of its port forwards. */
        FORWARD;

        public String wire() { return name().toLowerCase(Locale.ROOT); }
    }

    public SandboxLifecycle(Store store, Engine engine, Activity activity, SandboxNetwork network, Events events, Metrics metrics) {
        this.metrics = metrics;
        this.store = store;
        this.engine = engine;
        this.activity = activity;
        this.network = network;
        this.events = events;
        engine.onStateChange(this::reported);
    }

    /** The engine noticed a change by itself (a VM process that died): the row takes it. */
    private void reported(String vmId, VmState state, String reason) {
        record(vmId, statusOf(state), reason);
        events.record("sandbox." + state.wire(), null, store.sandboxById(vmId).map(SandboxRecord::name).orElse(vmId), reason);
    }

    /** Stores the sandbox's status: after a create, a recovery, a failure, or a transition of this class. */
    void record(String sandboxId, SandboxStatus status, String detail) {
        store.updateStatus(sandboxId, status, detail);
    }

    // ---------------------------------------------------------------- reading

    /** The sandbox as it is now, its status followed from its VM's state. Writes nothing. */
    public SandboxRecord current(SandboxRecord s) {
        Optional<VmInfo> vm = engine.info(s.id());
        if (vm.isEmpty()) return s;
        return followedStatus(s.status(), vm.get().state()).map(status -> s.withStatus(status, vm.get().detail())).orElse(s);
    }

    /** The sandbox's thermal state (hot, warm, cold) as the engine sees it now, or empty. */
    public String thermal(SandboxRecord s) {
        return engine.info(s.id()).map(vm -> vm.state().thermal()).orElse("");
    }

    /**
     * The status a sandbox row takes from its VM's state, or empty to leave the row as it is. A row still
     * starting belongs to its create (which settles it), and an engine caught STARTING is mid-wake or
     * mid-start: that moment is never written, or a row would keep a status no later look corrects.
     */
    static Optional<SandboxStatus> followedStatus(SandboxStatus row, VmState state) {
        if (row == SandboxStatus.STARTING || state == VmState.STARTING) return Optional.empty();
        SandboxStatus status = statusOf(state);
        return status == row ? Optional.empty() : Optional.of(status);
    }

    /** Where a VM's state puts a sandbox: warm counts as running, cold as stopped. */
    static SandboxStatus statusOf(VmState state) {
        return switch (state) {
            case RUNNING, PAUSED -> SandboxStatus.RUNNING;
            case SUSPENDED, STOPPED -> SandboxStatus.STOPPED;
            case STARTING -> SandboxStatus.STARTING;
            case ERROR -> SandboxStatus.ERROR;
        };
    }

    // ---------------------------------------------------------------- waking on request

    /**
     * Checks that the sandbox runs, waking it first if it is warm or cold (transparently: a request never
     * has to know), and counts the request as use. Concurrent wakes of one sandbox wake it once.
     */
    public SandboxRecord awake(SandboxRecord s) { return awake(s, false, Waker.API); }

    /** Registers the request (and, with {@code begin}, an operation under way) and wakes the sandbox, under its gate. */
    private SandboxRecord awake(SandboxRecord s, boolean begin, Waker by) {
        var gate = activity.gate(s.id());
        gate.lock();
        try {
            if (begin) activity.begin(s.id());
            else activity.touch(s.id());
            VmState state = engine.info(s.id()).map(VmInfo::state).orElse(null);
            boolean woke = (state == VmState.PAUSED || state == VmState.SUSPENDED) && wake(s, state, by);
            s = woke ? settle(s) : current(s);
            if (s.status() != SandboxStatus.RUNNING) throw notRunning(s);
            return s;
        } catch (RuntimeException e) {
            if (begin) activity.end(s.id());
            throw e;
        } finally {
            gate.unlock();
        }
    }

    /** Wakes a warm or cold sandbox; false if it moved on meanwhile (the caller looks again). */
    private boolean wake(SandboxRecord s, VmState from, Waker by) {
        long started = System.nanoTime();
        try {
            if (from == VmState.PAUSED) {
                engine.resume(s.id());
            } else {
                prepareNetwork(s.id());
                engine.start(s.id(), false);
            }
        } catch (EngineException e) {
            if (e.kind() == EngineException.Kind.NOT_RUNNING) return false;
            String why = "could not wake sandbox " + s.name() + ": " + e.getMessage();
            throw e.kind() == EngineException.Kind.CONFLICT ? DomainException.conflict(why) : DomainException.sandboxFailed(why);
        }
        long nanos = System.nanoTime() - started;
        metrics.transition(from == VmState.PAUSED ? "resume" : "start", "wake", nanos);
        metrics.wake(from.thermal(), by.wire());
        long ms = nanos / 1_000_000;
        log.info("sandbox {} woken from {} in {} ms", s.name(), from.thermal(), ms);
        events.record("thermal.wake", null, s.name(), "from " + from.thermal() + " in " + ms + " ms");
        return true;
    }

    /**
     * A running sandbox held for one piece of work in its guest: woken once on the way in, busy (never
     * cooled) until closed. The API reaches a VM's inside only through this.
     */
    public final class InUse implements AutoCloseable {
        private final SandboxRecord sandbox;
        private final Guest guest;
        private boolean closed;

        private InUse(SandboxRecord sandbox) {
            this.sandbox = sandbox;
            this.guest = engine.guest(sandbox.id());
        }

        public SandboxRecord sandbox() { return sandbox; }

        /** Runs {@code call} in the guest, its failures as domain errors. */
        public <T> T call(GuestCall<T> call) {
            try {
                return call.call(guest);
            } catch (EngineException e) {
                throw guestFailure(sandbox, e);
            }
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            activity.end(sandbox.id());
        }
    }

    /** Work on a sandbox's guest. */
    @FunctionalInterface
    public interface GuestCall<T> {
        T call(Guest guest) throws EngineException;
    }

    /** Wakes the sandbox if it must and holds it for work in its guest until the result is closed. */
    public InUse use(SandboxRecord s) { return use(s, Waker.API); }

    private InUse use(SandboxRecord s, Waker by) { return new InUse(awake(s, true, by)); }

    /**
     * Relays one forwarded connection to a guest port, waking the sandbox first, and again whenever the
     * client sends while it is warm (a connection outlives a pause: the proxy keeps idle ones in its
     * pool, and a request sent on one into a paused VM went unanswered until the proxy's timeout, 504).
     * The sandbox counts as busy while the connection is open; {@code by} says what the connection came through.
     */
    public void tunnel(Waker by, String sandboxId, int guestPort, SocketChannel client) {
        SandboxRecord s = store.sandboxById(sandboxId).orElseThrow(() -> DomainException.notFound("sandbox is gone"));
        try (var inUse = use(s, by)) {
            inUse.call(guest -> {
                guest.tunnel(guestPort, client, () -> wakeIfPaused(inUse.sandbox(), by));
                return null;
            });
        }
    }

    private void wakeIfPaused(SandboxRecord s, Waker by) {
        if (engine.info(s.id()).map(VmInfo::state).orElse(null) == VmState.PAUSED) awake(s, false, by);
    }

    /** Marks the sandbox busy (never cooled) until the returned token is closed: for attached shells. */
    public Activity.Busy busy(SandboxRecord s) { return activity.busy(s.id()); }

    // ---------------------------------------------------------------- transitions asked for

    /** Snapshots the sandbox to disk and ends its VM (cold); idempotent on a stopped one. */
    public SandboxRecord stop(SandboxRecord s) { return transition(s, "stop", false, engine::suspend); }

    /** Stops the sandbox's vCPUs, keeping its memory (warm). */
    public SandboxRecord pause(SandboxRecord s) { return transition(s, "pause", false, engine::pause); }

    /** Runs a paused sandbox again. */
    public SandboxRecord resume(SandboxRecord s) { return transition(s, "resume", true, engine::resume); }

    /**
     * Resumes a stopped sandbox where it was; {@code force} boots it from its disk when its snapshot is
     * unusable, and {@code afterColdBoot} then hands it what lived only in its memory (its secrets).
     */
    public SandboxRecord start(SandboxRecord s, boolean force, GuestCall<Void> afterColdBoot) {
        return transition(s, "start", true, id -> {
            prepareNetwork(id);
            engine.start(id, force);
            if (force) afterColdBoot.call(engine.guest(id));
        });
    }

    private interface Transition {
        void run(String vmId) throws EngineException;
    }

    /**
     * Runs a transition under the sandbox's gate: a request arriving meanwhile waits for it to end and
     * then finds the sandbox as the transition left it (and wakes it if it must).
     */
    private SandboxRecord transition(SandboxRecord s, String op, boolean countsAsUse, Transition t) {
        var gate = activity.gate(s.id());
        gate.lock();
        try {
            long started = System.nanoTime();
            t.run(s.id());
            metrics.transition(op, "api", System.nanoTime() - started);
            if (countsAsUse) activity.touch(s.id());
            return settle(s); // under the gate: a wake queued behind this transition has not begun yet
        } catch (EngineException e) {
            throw transitionFailure(s, op, e);
        } finally {
            gate.unlock();
        }
    }

    /** After a transition: the row takes its VM's state. */
    private SandboxRecord settle(SandboxRecord s) {
        SandboxRecord now = current(s);
        if (now.status() != s.status()) record(s.id(), now.status(), now.detail());
        return now;
    }

    /**
     * Writes named snapshot {@code snapshotId} of the sandbox (under its gate, so that no wake or cooling
     * runs meanwhile); the sandbox stays as hot, warm or cold as it was. Returns the bytes on disk.
     */
    long checkpoint(SandboxRecord s, String snapshotId) {
        var gate = activity.gate(s.id());
        gate.lock();
        try {
            return engine.checkpoint(s.id(), snapshotId);
        } catch (EngineException e) {
            throw transitionFailure(s, "snapshot", e);
        } finally {
            gate.unlock();
        }
    }

    /**
     * Writes filesystem snapshot {@code snapshotId} of the sandbox (its disk and volumes, no memory), as
     * {@link #exportDisk} does: the guest's writes flushed first (a warm or cold one woken for that and put
     * back), the vCPUs still only for the copy. Returns the bytes on disk.
     */
    long checkpointDisk(SandboxRecord s, String snapshotId) {
        return withFlushedDisk(s, "snapshot", () -> engine.checkpointDisk(s.id(), snapshotId));
    }

    /**
     * Writes the sandbox's root disk as a raw file system image at {@code target}, under its gate (a wake or
     * a cooling step in progress is waited for). The guest's writes are flushed first: a warm or cold
     * sandbox holds its latest ones in its memory, so it is woken for that and put back afterwards. The
     * vCPUs stand still only for the copy. Returns the image's length.
     */
    long exportDisk(SandboxRecord s, Path target) {
        return withFlushedDisk(s, "image save", () -> engine.exportDisk(s.id(), target));
    }

    /** A copy of the sandbox's disk, made by the engine; answers the bytes written. */
    private interface DiskCopy {
        long run() throws EngineException;
    }

    /**
     * Runs {@code copy} under the sandbox's gate with the guest's writes on its disk: a warm or cold sandbox
     * holds its latest ones in its memory, so it is woken for the flush and put back afterwards.
     */
    private long withFlushedDisk(SandboxRecord s, String what, DiskCopy copy) {
        var gate = activity.gate(s.id());
        gate.lock();
        try {
            VmState before = engine.info(s.id()).map(VmInfo::state).orElse(null);
            if (before == VmState.PAUSED || before == VmState.SUSPENDED) awake(s);
            if (before != VmState.STOPPED) flushGuest(s);
            long bytes = copy.run();
            if (before == VmState.PAUSED) engine.pause(s.id());
            if (before == VmState.SUSPENDED) engine.suspend(s.id());
            settle(s);
            return bytes;
        } catch (EngineException e) {
            throw transitionFailure(s, what, e);
        } finally {
            gate.unlock();
        }
    }

    private void flushGuest(SandboxRecord s) { GuestFlush.flush(engine.guest(s.id()), "sandbox " + s.name()); }

    // ---------------------------------------------------------------- cooling when idle

    /** One cooling step taken, and how long the sandbox had been idle. */
    public record Cooling(VmState to, Duration idle) {}

    /**
     * Where a sandbox goes cold: a hot one idle for {@code warmAfter} is paused, a warm one idle for
     * {@code coldAfter} is snapshotted to disk (zero disables a step). Sandboxes with work under way, or
     * whose gate a request holds right now, are left alone. Empty when nothing was done.
     */
    Optional<Cooling> coolIfIdle(SandboxRecord s, Duration warmAfter, Duration coldAfter, Instant now) throws EngineException {
        // A create under way owns its VM (a first boot that leaves a template can outlast warm_after); its
        // idle time starts when the create hands the sandbox over.
        if (s.status() == SandboxStatus.STARTING) return Optional.empty();
        var gate = activity.gate(s.id());
        if (!gate.tryLock()) return Optional.empty(); // a request is waking or using it right now
        try {
            VmState state = engine.info(s.id()).map(VmInfo::state).orElse(null);
            if (state != VmState.RUNNING && state != VmState.PAUSED) return Optional.empty();
            Instant idleSince = activity.idleSince(s.id());
            if (idleSince == null) return Optional.empty(); // busy
            Duration idle = Duration.between(idleSince, now);
            long started = System.nanoTime();
            if (state == VmState.RUNNING && !warmAfter.isZero() && idle.compareTo(warmAfter) >= 0) {
                engine.pause(s.id());
                metrics.transition("pause", "idle", System.nanoTime() - started);
                return Optional.of(new Cooling(VmState.PAUSED, idle));
            }
            if (state == VmState.PAUSED && !coldAfter.isZero() && idle.compareTo(coldAfter) >= 0) {
                engine.suspend(s.id());
                metrics.transition("stop", "idle", System.nanoTime() - started);
                record(s.id(), SandboxStatus.STOPPED, "");
                return Optional.of(new Cooling(VmState.SUSPENDED, idle));
            }
            return Optional.empty();
        } finally {
            gate.unlock();
        }
    }

    // ---------------------------------------------------------------- failures

    /** The sandbox's TAP must exist before its VM boots or restores (a host reboot removes TAPs). */
    private void prepareNetwork(String sandboxId) throws EngineException {
        try {
            network.prepare(sandboxId);
        } catch (NetworkException e) {
            throw new EngineException(EngineException.Kind.FAILED, "its network could not be set up: " + e.getMessage());
        }
    }

    private DomainException transitionFailure(SandboxRecord s, String op, EngineException e) {
        return switch (e.kind()) {
            case NOT_RUNNING, CONFLICT -> DomainException.conflict("cannot " + op + " sandbox " + s.name() + ": " + e.getMessage());
            case NOT_FOUND -> DomainException.notFound("sandbox not found: " + s.name());
            case INVALID -> DomainException.invalid(e.getMessage());
            default -> DomainException.failed("could not " + op + " sandbox " + s.name() + ": " + e.getMessage());
        };
    }

    private DomainException guestFailure(SandboxRecord s, EngineException e) {
        return switch (e.kind()) {
            case INVALID -> DomainException.invalid(e.getMessage());
            case MISSING -> DomainException.notFound(e.getMessage());
            case CONFLICT -> DomainException.conflict(e.getMessage());
            case NOT_FOUND, NOT_RUNNING -> notRunning(current(s));
            case FAILED -> DomainException.sandboxFailed("the sandbox failed: " + e.getMessage());
        };
    }

    private static DomainException notRunning(SandboxRecord s) {
        return DomainException.conflict("sandbox " + s.name() + " is not running (status " + s.status().wire()
                + (s.detail().isEmpty() ? "" : ": " + s.detail()) + "); start it with: bhatti start " + s.name()
                + " (--force boots it from its disk)");
    }
}

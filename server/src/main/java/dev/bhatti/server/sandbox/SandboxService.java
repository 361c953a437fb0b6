package dev.bhatti.server.sandbox;

import dev.bhatti.engine.Detached;
import dev.bhatti.engine.Engine;
import dev.bhatti.engine.Guest;
import dev.bhatti.engine.GuestNet;
import dev.bhatti.server.net.Egress;
import dev.bhatti.server.net.NetworkException;
import dev.bhatti.server.net.SandboxNetwork;
import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.ExecCommand;
import dev.bhatti.engine.ExecListener;
import dev.bhatti.engine.ExecResult;
import dev.bhatti.engine.VmInfo;
import dev.bhatti.engine.VmSpec;
import dev.bhatti.engine.VmState;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.auth.ApiKeys;
import dev.bhatti.server.events.Events;
import dev.bhatti.server.secrets.SecretService;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Sandboxes of users, mapped onto engine VMs. The store row is written before a VM boots. */
public final class SandboxService {
    private static final Logger log = LoggerFactory.getLogger(SandboxService.class);
    public static final String DEFAULT_IMAGE = "minimal";

    private final Store store;
    private final Engine engine;
    private final String accelerator;
    private final Activity activity;
    private final SecretService secrets;
    private final Events events;
    private final SandboxNetwork network;

    public SandboxService(Store store, Engine engine, String accelerator, Activity activity, SecretService secrets, Events events,
                          SandboxNetwork network) {
        this.events = events;
        this.network = network;
        this.store = store;
        this.engine = engine;
        this.accelerator = accelerator;
        this.activity = activity;
        this.secrets = secrets;
        engine.onStateChange((id, state, reason) -> {
            store.updateStatus(id, statusOf(state), reason);
            events.record("sandbox." + state.wire(), null, store.sandboxById(id).map(SandboxRecord::name).orElse(id), reason);
        });
    }

    /**
     * What a create may ask for. {@code env} applies to every command in the sandbox, {@code files} are
     * written before it is handed over, {@code init} runs once as session "init" (attachable).
     * {@code egress} is all (default) or none; {@code allowHosts} are reachable under none.
     */
    public record CreateRequest(String name, Double cpus, Integer memoryMb, String image, Map<String, String> env,
                                List<FileSpec> files, String init, Boolean keepHot, List<String> secrets, String egress,
                                List<String> allowHosts) {}

    /** A file to place at create time: base64 {@code content}, octal {@code mode} (default 0644). */
    public record FileSpec(String guestPath, String content, String mode) {}

    /** The sandbox and whether it existed already (create is idempotent by name). */
    public record Created(SandboxRecord sandbox, boolean existing) {}

    public Created create(UserRecord user, CreateRequest req) {
        String name = req.name() == null ? "sandbox-" + ApiKeys.randomHex(3) : Limits.name(req.name());
        int cpus = Limits.cpus(req.cpus(), user);
        int memoryMb = Limits.memoryMb(req.memoryMb(), user);
        // a null name answered 500 from List.copyOf (found by ApiFuzzTest)
        if (req.secrets() != null && req.secrets().contains(null)) throw DomainException.invalid("secrets must be a list of names, without null");
        List<String> secretNames = req.secrets() == null ? List.of() : List.copyOf(new java.util.LinkedHashSet<>(req.secrets()));
        var config = BootConfig.of(req, secrets.values(user, secretNames));
        Egress egress = Egress.of(req.egress(), req.allowHosts());
        network.admit(egress);
        String image = req.image() == null ? DEFAULT_IMAGE : req.image();
        if (!engine.tiers().contains(image)) {
            throw DomainException.invalid("unknown image '" + Limits.printable(image) + "'; available: "
                    + (engine.tiers().isEmpty() ? "none (build one with: bhatti tier build minimal)" : String.join(", ", engine.tiers())));
        }
        Optional<SandboxRecord> existing = store.sandbox(user.id(), name).filter(s -> s.name().equals(name));
        if (existing.isPresent()) return new Created(refresh(existing.get()), true);
        var record = new SandboxRecord(ApiKeys.randomHex(8), user.id(), name, "starting", "", cpus, memoryMb, image,
                engine.name(), accelerator, Instant.now().truncatedTo(ChronoUnit.MILLIS), Boolean.TRUE.equals(req.keepHot()));
        switch (store.insertSandbox(record, user)) {
            case INSERTED -> { }
            // Lost a race with a concurrent create of the same name: theirs wins, no second VM.
            case NAME_TAKEN -> { return new Created(store.sandbox(user.id(), name).orElseThrow(), true); }
            case OVER_LIMIT -> throw overLimit(user, cpus, memoryMb);
        }
        try {
            GuestNet net = network.attach(record, egress);
            VmInfo vm = engine.create(new VmSpec(record.id(), hostname(name), cpus, memoryMb, image, net));
            try {
                config.apply(engine.guest(record.id()));
            } catch (EngineException e) {
                engine.destroy(record.id());
                throw new EngineException(e.kind() == EngineException.Kind.FAILED ? e.kind() : EngineException.Kind.INVALID,
                        "applying the create configuration failed: " + e.getMessage(), e);
            }
            store.setSandboxSecrets(record.id(), secretNames);
            store.updateStatus(record.id(), "running", "");
            activity.touch(record.id()); // idle from now: a boot slower than warm_after must not pause it at once
            if (!vm.accelerator().equals(record.accelerator())) store.updateAccelerator(record.id(), vm.accelerator());
            return new Created(record.withStatus("running", "").withAccelerator(vm.accelerator()), false);
        } catch (EngineException e) {
            network.detach(record.id());
            store.deleteSandbox(record.id());
            events.record("sandbox.create_failed", user.name(), name, e.getMessage());
            throw switch (e.kind()) {
                case INVALID -> DomainException.invalid(e.getMessage());
                default -> DomainException.failed("could not create sandbox: " + e.getMessage());
            };
        } catch (RuntimeException e) {
            undo(record.id(), e);
            throw e;
        }
    }

    public List<SandboxRecord> list(UserRecord user) {
        return store.sandboxes(user.id()).stream().map(this::refresh).toList();
    }

    public SandboxRecord get(UserRecord user, String idOrName) {
        return refresh(find(user, idOrName));
    }

    public void destroy(UserRecord user, String idOrName) {
        SandboxRecord s = find(user, idOrName);
        try {
            engine.destroy(s.id());
        } catch (EngineException e) {
            store.updateStatus(s.id(), "error", "destroy failed: " + e.getMessage());
            throw DomainException.failed("could not destroy sandbox: " + e.getMessage());
        }
        network.detach(s.id());
        store.deleteSandbox(s.id());
        activity.forget(s.id());
        log.info("sandbox {} ({}) destroyed", s.name(), s.id());
    }

    /**
     * Checks that the sandbox exists and runs, waking it first if it is warm or cold (transparently: a
     * request never has to know). Concurrent wakes of one sandbox wake it once; the engine serializes
     * transitions. Call before committing a streamed response.
     */
    public SandboxRecord running(UserRecord user, String idOrName) {
        return running(find(user, idOrName));
    }

    private SandboxRecord running(SandboxRecord s) {
        return running(s, false);
    }

    /** Registers the request (and, with {@code begin}, an operation under way) and wakes the sandbox, under its gate. */
    private SandboxRecord running(SandboxRecord s, boolean begin) {
        var gate = activity.gate(s.id());
        gate.lock();
        try {
            if (begin) activity.begin(s.id());
            else activity.touch(s.id());
            VmState state = engine.info(s.id()).map(VmInfo::state).orElse(null);
            if (state == VmState.PAUSED || state == VmState.SUSPENDED) wake(s, state);
            s = refresh(s);
            if (!s.status().equals("running")) throw conflictNotRunning(s);
            return s;
        } catch (RuntimeException e) {
            if (begin) activity.end(s.id());
            throw e;
        } finally {
            gate.unlock();
        }
    }

    private void wake(SandboxRecord s, VmState from) {
        long started = System.nanoTime();
        try {
            if (from == VmState.PAUSED) {
                engine.resume(s.id());
            } else {
                prepareNetwork(s.id());
                engine.start(s.id(), false);
            }
        } catch (EngineException e) {
            if (e.kind() == EngineException.Kind.NOT_RUNNING) return; // it moved on meanwhile; refresh tells the truth
            String why = "could not wake sandbox " + s.name() + ": " + e.getMessage();
            throw e.kind() == EngineException.Kind.CONFLICT ? DomainException.conflict(why) : DomainException.sandboxFailed(why);
        }
        long ms = (System.nanoTime() - started) / 1_000_000;
        log.info("sandbox {} woken from {} in {} ms", s.name(), from.thermal(), ms);
        events.record("thermal.wake", null, s.name(), "from " + from.thermal() + " in " + ms + " ms");
    }

    /** Sets whether the thermal manager leaves the sandbox alone; keeping it hot wakes it now. */
    public SandboxRecord keepHot(UserRecord user, String idOrName, boolean keepHot) {
        SandboxRecord s = find(user, idOrName);
        store.updateKeepHot(s.id(), keepHot);
        if (keepHot) running(s);
        return refresh(find(user, idOrName));
    }

    /** Snapshots the sandbox to disk and ends its VM (cold); idempotent on a stopped one. */
    public SandboxRecord stop(UserRecord user, String idOrName) {
        return transition(find(user, idOrName), "stop", false, id -> engine.suspend(id));
    }

    /**
     * Resumes a stopped sandbox where it was; {@code force} boots it from its disk when its snapshot is
     * unusable, and hands it its secrets again (they live only in guest memory).
     */
    public SandboxRecord start(UserRecord user, String idOrName, boolean force) {
        return transition(find(user, idOrName), "start", true, id -> {
            prepareNetwork(id);
            engine.start(id, force);
            if (force) BootConfig.applySecrets(engine.guest(id), secrets.remainingValues(user, store.sandboxSecrets(id)));
        });
    }

    /** Stops the sandbox's vCPUs, keeping its memory (warm). */
    public SandboxRecord pause(UserRecord user, String idOrName) {
        return transition(find(user, idOrName), "pause", false, id -> engine.pause(id));
    }

    /** Runs a paused sandbox again. */
    public SandboxRecord resume(UserRecord user, String idOrName) {
        return transition(find(user, idOrName), "resume", true, id -> engine.resume(id));
    }

    private interface Transition {
        void run(String vmId) throws EngineException;
    }

    /**
     * Runs a thermal transition under the sandbox's gate: a request arriving meanwhile waits for it to
     * end and then finds the sandbox as the transition left it (and wakes it if it must).
     */
    private SandboxRecord transition(SandboxRecord s, String op, boolean countsAsUse, Transition t) {
        var gate = activity.gate(s.id());
        gate.lock();
        try {
            t.run(s.id());
            if (countsAsUse) activity.touch(s.id());
            return refresh(s); // under the gate: a wake queued behind this transition has not begun yet
        } catch (EngineException e) {
            throw lifecycleFailure(s, op, e);
        } finally {
            gate.unlock();
        }
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
            throw lifecycleFailure(s, "snapshot", e);
        } finally {
            gate.unlock();
        }
    }

    /**
     * Creates a new sandbox running from the moment of {@code snapshot}: same memory, processes and
     * disk, its own id, name and hostname, a reseeded random generator.
     */
    Created createFromSnapshot(UserRecord user, dev.bhatti.server.store.SnapshotRecord snapshot, String requestedName) {
        String name = requestedName == null ? snapshot.name() + "-" + ApiKeys.randomHex(3) : Limits.name(requestedName);
        var record = new SandboxRecord(ApiKeys.randomHex(8), user.id(), name, "starting", "", snapshot.cpus(), snapshot.memoryMb(),
                snapshot.image(), engine.name(), accelerator, Instant.now().truncatedTo(ChronoUnit.MILLIS), false);
        switch (store.insertSandbox(record, user)) {
            case INSERTED -> { }
            case NAME_TAKEN -> throw DomainException.conflict("a sandbox named " + name + " exists already; pick another --name");
            case OVER_LIMIT -> throw overLimit(user, snapshot.cpus(), snapshot.memoryMb());
        }
        // the clone carries the source's secrets in its memory; remember them for a later cold boot
        store.setSandboxSecrets(record.id(), store.sandboxSecrets(snapshot.sourceSandboxId()));
        try {
            // the clone gets its own address and MAC (the agent readdresses the guest), with the source's egress
            GuestNet net = engine.snapshotHasNetwork(snapshot.id())
                    ? network.attach(record, store.network(snapshot.sourceSandboxId()).map(n -> new Egress(n.egress().equals("all"), n.allowHosts()))
                            .orElse(Egress.ALL))
                    : null;
            VmInfo vm = engine.createFromSnapshot(snapshot.id(), new VmSpec(record.id(), hostname(name), snapshot.cpus(),
                    snapshot.memoryMb(), snapshot.image(), net));
            store.updateStatus(record.id(), "running", "");
            activity.touch(record.id());
            if (!vm.accelerator().equals(record.accelerator())) store.updateAccelerator(record.id(), vm.accelerator());
            log.info("sandbox {} ({}) resumed from snapshot {}", name, record.id(), snapshot.name());
            return new Created(record.withStatus("running", "").withAccelerator(vm.accelerator()), false);
        } catch (EngineException e) {
            network.detach(record.id());
            store.deleteSandbox(record.id());
            throw switch (e.kind()) {
                case INVALID -> DomainException.invalid(e.getMessage());
                case NOT_FOUND -> DomainException.conflict(e.getMessage() + "; delete it with: bhatti snapshot delete " + snapshot.name());
                default -> DomainException.failed("could not resume snapshot " + snapshot.name() + ": " + e.getMessage());
            };
        } catch (RuntimeException e) {
            undo(record.id(), e);
            throw e;
        }
    }

    /**
     * A create failed after its row was written (the store itself, say): the VM, if it booted, and the
     * row go, as far as they can; what cannot be undone is logged for the reconciler and the operator.
     */
    private void undo(String sandboxId, RuntimeException cause) {
        try {
            engine.destroy(sandboxId);
        } catch (EngineException | RuntimeException e) {
            cause.addSuppressed(e);
            log.error("sandbox {}: its VM could not be removed after a failed create: {}", sandboxId, e.getMessage());
        }
        try {
            network.detach(sandboxId);
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
            log.error("sandbox {}: its network could not be removed after a failed create: {}", sandboxId, e.getMessage());
        }
        try {
            store.deleteSandbox(sandboxId);
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
            log.error("sandbox {}: its row could not be removed after a failed create: {}", sandboxId, e.getMessage());
        }
    }

    /** Which of the user's limits a refused create would have passed, in words that say what to do. */
    private DomainException overLimit(UserRecord user, int cpus, int memoryMb) {
        var used = store.usage(user.id());
        String why;
        if (used.sandboxes() >= user.maxSandboxes()) {
            why = "sandbox limit reached (" + used.sandboxes() + " of " + user.maxSandboxes() + ")";
        } else if (used.cpus() + cpus > user.maxCpus()) {
            why = "vCPU limit reached (" + used.cpus() + " of " + user.maxCpus() + " in use, " + cpus + " asked)";
        } else {
            why = "memory limit reached (" + used.memoryMb() + " of " + user.maxMemoryMb() + " MB in use, " + memoryMb + " asked)";
        }
        return DomainException.limitReached(why + "; destroy a sandbox first");
    }

    /** A sandbox name as a hostname: letters, digits and '-', as RFC 1123 allows. */
    static String hostname(String name) {
        String h = name.replaceAll("[^A-Za-z0-9-]", "-").replaceAll("^-+", "");
        return h.isEmpty() ? "sandbox" : h;
    }

    private DomainException lifecycleFailure(SandboxRecord s, String op, EngineException e) {
        return switch (e.kind()) {
            case NOT_RUNNING, CONFLICT -> DomainException.conflict("cannot " + op + " sandbox " + s.name() + ": " + e.getMessage());
            case NOT_FOUND -> DomainException.notFound("sandbox not found: " + s.name());
            case INVALID -> DomainException.invalid(e.getMessage());
            default -> DomainException.failed("could not " + op + " sandbox " + s.name() + ": " + e.getMessage());
        };
    }

    /**
     * The status a sandbox row takes from its VM's state, or empty to leave the row as it is. A row still
     * "starting" belongs to its create (which settles it), and an engine caught STARTING is mid-wake or
     * mid-start: that moment is never written, or a row would keep a status no later look corrects.
     */
    static Optional<String> followedStatus(String rowStatus, VmState state) {
        if (rowStatus.equals("starting") || state == VmState.STARTING) return Optional.empty();
        String status = statusOf(state);
        return status.equals(rowStatus) ? Optional.empty() : Optional.of(status);
    }

    /** Where a VM's state puts a sandbox: warm counts as running, cold as stopped. */
    static String statusOf(VmState state) {
        return switch (state) {
            case RUNNING, PAUSED -> "running";
            case SUSPENDED, STOPPED -> "stopped";
            case STARTING -> "starting";
            case ERROR -> "error";
        };
    }

    /** The sandbox's thermal state (hot, warm, cold) as the engine sees it now, or empty. */
    public String thermal(SandboxRecord s) {
        return engine.info(s.id()).map(vm -> vm.state().thermal()).orElse("");
    }

    public long diskUsage(SandboxRecord s) { return engine.diskUsage(s.id()); }

    public ExecResult exec(UserRecord user, String idOrName, ExecCommand command, ExecListener listener) {
        return onRunning(user, idOrName, guest -> guest.exec(command, listener));
    }

    public Detached execDetached(UserRecord user, String idOrName, ExecCommand command, String outputFile) {
        return onRunning(user, idOrName, guest -> guest.execDetached(command, outputFile));
    }

    /** Runs one operation in a running sandbox's guest (waking it first), mapping its failures to domain errors. */
    public <T> T onRunning(UserRecord user, String idOrName, GuestCall<T> call) {
        return onRunning(find(user, idOrName), call);
    }

    /** Like {@link #onRunning(UserRecord, String, GuestCall)} for a sandbox already found (and authorized). */
    public <T> T onRunning(SandboxRecord sandbox, GuestCall<T> call) {
        SandboxRecord s = running(sandbox, true);
        try {
            return call.call(engine.guest(s.id()));
        } catch (EngineException e) {
            throw execFailure(s, e);
        } finally {
            activity.end(s.id());
        }
    }

    /**
     * Relays one forwarded connection to a guest port, waking the sandbox first, and again whenever the
     * client sends while it is warm (a connection outlives a pause: the proxy keeps idle ones in its
     * pool, and a request sent on one into a paused VM went unanswered until the proxy's timeout, 504).
     * The sandbox counts as busy while the connection is open.
     */
    public void tunnel(String sandboxId, int guestPort, java.nio.channels.SocketChannel client) {
        SandboxRecord s = store.sandboxById(sandboxId).orElseThrow(() -> DomainException.notFound("sandbox is gone"));
        s = running(s, true);
        try {
            SandboxRecord sandbox = s;
            engine.guest(s.id()).tunnel(guestPort, client, () -> wakeIfPaused(sandbox));
        } catch (EngineException e) {
            throw execFailure(s, e);
        } finally {
            activity.end(s.id());
        }
    }

    private void wakeIfPaused(SandboxRecord s) {
        if (engine.info(s.id()).map(VmInfo::state).orElse(null) == VmState.PAUSED) running(s);
    }

    /** Marks the sandbox busy (never cooled) until the returned token is closed: for attached shells. */
    public Activity.Busy busy(UserRecord user, String idOrName) {
        return activity.busy(find(user, idOrName).id());
    }

    public Activity.Busy busy(SandboxRecord s) { return activity.busy(s.id()); }

    public Optional<SandboxRecord> byId(String sandboxId) { return store.sandboxById(sandboxId); }

    /** Work on a sandbox's guest: the API reaches the inside of a VM only through this. */
    @FunctionalInterface
    public interface GuestCall<T> {
        T call(Guest guest) throws EngineException;
    }

    private DomainException execFailure(SandboxRecord s, EngineException e) {
        return switch (e.kind()) {
            case INVALID -> DomainException.invalid(e.getMessage());
            case MISSING -> DomainException.notFound(e.getMessage());
            case CONFLICT -> DomainException.conflict(e.getMessage());
            case NOT_FOUND, NOT_RUNNING -> conflictNotRunning(refresh(s));
            case FAILED -> DomainException.sandboxFailed("the sandbox failed: " + e.getMessage());
        };
    }

    /**
     * After a daemon restart: re-attach to VMs that still run and record the truth about the others.
     * A create the last daemon did not finish is undone, as a failed create is: its caller got no
     * answer, and its configuration (env, files, secrets, init) was not or not wholly applied, so a
     * retry must not find it as an existing sandbox. A sandbox whose files are gone (a destroy cut short)
     * has nothing left to adopt or boot: its destroy is finished.
     */
    public void recover() {
        for (SandboxRecord s : store.allSandboxes()) {
            if (s.status().equals("starting")) {
                remove(s, "the daemon stopped during its create");
                events.record("sandbox.create_failed", null, s.name(), "the daemon stopped during the create");
                continue;
            }
            if (!engine.hasFiles(s.id())) {
                remove(s, "its files are gone (the daemon stopped during its destroy)");
                continue;
            }
            VmInfo vm = engine.adopt(s.id());
            String status = vm.state() == VmState.STARTING ? "error" : statusOf(vm.state());
            String detail = vm.state() == VmState.RUNNING ? "" : vm.detail();
            store.updateStatus(s.id(), status, detail);
            log.info("recovered sandbox {} ({}): {}", s.name(), s.id(), status);
        }
    }

    /** Removes a sandbox at recovery: its VM and files, then its row (its TAP goes as an orphan at network start). */
    private void remove(SandboxRecord s, String why) {
        try {
            engine.destroy(s.id());
        } catch (EngineException e) {
            store.updateStatus(s.id(), "error", why + "; its files could not be removed (" + e.getMessage() + "): destroy it");
            log.warn("sandbox {} ({}): {}; could not remove it: {}", s.name(), s.id(), why, e.getMessage());
            return;
        }
        store.deleteSandbox(s.id());
        log.info("removed sandbox {} ({}): {}", s.name(), s.id(), why);
    }

    /** The sandbox's TAP must exist before its VM boots or restores (a host reboot removes TAPs). */
    private void prepareNetwork(String sandboxId) throws EngineException {
        try {
            network.prepare(sandboxId);
        } catch (NetworkException e) {
            throw new EngineException(EngineException.Kind.FAILED, "its network could not be set up: " + e.getMessage());
        }
    }

    /** What a user sees of the sandbox's network, if it has one. */
    public Optional<SandboxNetwork.View> networkView(SandboxRecord s) { return network.view(s.id()); }

    private DomainException conflictNotRunning(SandboxRecord s) {
        return DomainException.conflict("sandbox " + s.name() + " is not running (status " + s.status()
                + (s.detail().isEmpty() ? "" : ": " + s.detail()) + "); start it with: bhatti start " + s.name()
                + " (--force boots it from its disk)");
    }

    SandboxRecord find(UserRecord user, String idOrName) {
        return store.sandbox(user.id(), idOrName)
                .orElseThrow(() -> DomainException.notFound("sandbox not found: " + Limits.printable(idOrName)));
    }

    /** The engine is the source of truth for a VM's state; the row follows it. */
    private SandboxRecord refresh(SandboxRecord s) {
        Optional<VmInfo> vm = engine.info(s.id());
        if (vm.isEmpty()) return s;
        Optional<String> status = followedStatus(s.status(), vm.get().state());
        if (status.isEmpty()) return s;
        String detail = vm.get().detail();
        store.updateStatus(s.id(), status.get(), detail);
        return s.withStatus(status.get(), detail);
    }
}

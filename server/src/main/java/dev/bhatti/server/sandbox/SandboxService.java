package dev.bhatti.server.sandbox;

import dev.bhatti.engine.Detached;
import dev.bhatti.engine.Engine;
import dev.bhatti.engine.GuestNet;
import dev.bhatti.server.net.Egress;
import dev.bhatti.server.net.SandboxNetwork;
import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.ExecCommand;
import dev.bhatti.engine.ExecListener;
import dev.bhatti.engine.ExecResult;
import dev.bhatti.engine.VmInfo;
import dev.bhatti.engine.VmSpec;
import dev.bhatti.engine.VmState;
import dev.bhatti.engine.VolumeDisk;
import dev.bhatti.server.volume.VolumeAttachments;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.quota.Quotas;
import dev.bhatti.server.auth.ApiKeys;
import dev.bhatti.server.events.Events;
import dev.bhatti.server.metrics.Metrics;
import dev.bhatti.server.secrets.SecretService;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.SandboxStatus;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import dev.bhatti.server.store.SnapshotRecord;
import java.util.LinkedHashSet;

/** Sandboxes of users, mapped onto engine VMs. The store row is written before a VM boots. */
public final class SandboxService {
    private static final Logger log = LoggerFactory.getLogger(SandboxService.class);
    public static final String DEFAULT_IMAGE = "minimal";
    private final String defaultImage;

    private final Store store;
    private final Engine engine;
    private final String accelerator;
    private final Activity activity;
    private final SecretService secrets;
    private final Events events;
    private final SandboxNetwork network;
    private final SandboxLifecycle lifecycle;
    private final Quotas quotas;
    private final ImageLookup images;
    private final VolumeAttachments volumes;
    private final TierHints tierHints = new TierHints();
    private final Templates templates;

    public SandboxService(Store store, Engine engine, String accelerator, Activity activity, SecretService secrets, Events events,
                          SandboxNetwork network, ImageLookup images, VolumeAttachments volumes, Metrics metrics) {
        this(store, engine, accelerator, activity, secrets, events, network, images, volumes, metrics, DEFAULT_IMAGE);
    }

    /** {@code defaultImage}: what a create that names no image boots (the config's default_image). */
    public SandboxService(Store store, Engine engine, String accelerator, Activity activity, SecretService secrets, Events events,
                          SandboxNetwork network, ImageLookup images, VolumeAttachments volumes, Metrics metrics, String defaultImage) {
        this.defaultImage = defaultImage;
        this.images = images;
        this.volumes = volumes;
        this.events = events;
        this.network = network;
        this.store = store;
        this.engine = engine;
        this.accelerator = accelerator;
        this.activity = activity;
        this.secrets = secrets;
        this.lifecycle = new SandboxLifecycle(store, engine, activity, network, events, metrics);
        this.quotas = new Quotas(store);
        this.templates = new Templates(store, images, engine::tiers, secrets);
    }

    /** The users' saved create requests. */
    public Templates templates() { return templates; }

    /** The owner of each sandbox's state, wakes and transitions. */
    public SandboxLifecycle lifecycle() { return lifecycle; }

    /**
     * What a create may ask for. {@code env} applies to every command in the sandbox, {@code files} are
     * written before it is handed over, {@code init} runs once as session "init" (attachable).
     * {@code egress} is all (default) or none; {@code allowHosts} are reachable under none.
     * {@code runEntrypoint} runs the image's ENTRYPOINT and CMD as that session instead of a script;
     * {@code diskSizeMb} grows the root file system beyond the image's size; {@code volumes} are attached
     * and mounted before the sandbox is handed over. {@code labels} are set on it ({@link Labels});
     * {@code template} names a saved request the others are laid over ({@link Templates}). {@code from}
     * names a sandbox to fork instead (see {@link Forks}): everything else then comes from that sandbox.
     */
    public record CreateRequest(String name, Double cpus, Integer memoryMb, String image, Map<String, String> env,
                                List<FileSpec> files, String init, Boolean keepHot, List<String> secrets, String egress,
                                List<String> allowHosts, Boolean runEntrypoint, Integer diskSizeMb, List<VolumeAttachments.Requested> volumes,
                                Map<String, String> labels, String template, String from) {

        public CreateRequest(String name, Double cpus, Integer memoryMb, String image, Map<String, String> env, List<FileSpec> files,
                             String init, Boolean keepHot, List<String> secrets, String egress, List<String> allowHosts, Boolean runEntrypoint,
                             Integer diskSizeMb, List<VolumeAttachments.Requested> volumes, Map<String, String> labels, String template) {
            this(name, cpus, memoryMb, image, env, files, init, keepHot, secrets, egress, allowHosts, runEntrypoint, diskSizeMb, volumes, labels, template, null);
        }

        public CreateRequest(String name, Double cpus, Integer memoryMb, String image, Map<String, String> env, List<FileSpec> files,
                             String init, Boolean keepHot, List<String> secrets, String egress, List<String> allowHosts, Boolean runEntrypoint,
                             Integer diskSizeMb, List<VolumeAttachments.Requested> volumes) {
            this(name, cpus, memoryMb, image, env, files, init, keepHot, secrets, egress, allowHosts, runEntrypoint, diskSizeMb, volumes, null, null, null);
        }

        public CreateRequest(String name, Double cpus, Integer memoryMb, String image, Map<String, String> env, List<FileSpec> files,
                             String init, Boolean keepHot, List<String> secrets, String egress, List<String> allowHosts) {
            this(name, cpus, memoryMb, image, env, files, init, keepHot, secrets, egress, allowHosts, null, null, null, null, null, null);
        }
    }

    /** A file to place at create time: base64 {@code content}, octal {@code mode} (default 0644). */
    public record FileSpec(String guestPath, String content, String mode) {}

    /**
     * The sandbox and whether it existed already (create is idempotent by name), and what the user should
     * know about it (below its image's recommended size).
     */
    public record Created(SandboxRecord sandbox, boolean existing, List<String> warnings) {
        public Created {
            warnings = List.copyOf(warnings);
        }

        public Created(SandboxRecord sandbox, boolean existing) { this(sandbox, existing, List.of()); }
    }

    public Created create(UserRecord user, CreateRequest request) {
        if (request.from() != null) throw DomainException.invalid("from: a fork is made by SnapshotService.fork"); // routed there by the API
        CreateRequest req = templates.apply(user, request);
        Map<String, String> labels = Labels.of(req.labels());
        String name = req.name() == null ? "sandbox-" + ApiKeys.randomHex(3) : Limits.name(req.name());
        int cpus = Limits.cpus(req.cpus(), user);
        int memoryMb = Limits.memoryMb(req.memoryMb(), user);
        // a null name answered 500 from List.copyOf (found by ApiFuzzTest)
        if (req.secrets() != null && req.secrets().contains(null)) throw DomainException.invalid("secrets must be a list of names, without null");
        List<String> secretNames = req.secrets() == null ? List.of() : List.copyOf(new LinkedHashSet<>(req.secrets()));
        var config = BootConfig.of(req, secrets.values(user, secretNames));
        Egress egress = Egress.of(req.egress(), req.allowHosts());
        network.admit(egress);
        String image = req.image() == null ? defaultImage : req.image();
        // own, then shared, then tier
        ImageLookup.UserImage userImage = images.find(user, image).orElse(null);
        if (userImage == null && !engine.tiers().contains(image)) {
            throw DomainException.invalid("unknown image '" + Limits.printable(image) + "'; available: "
                    + (engine.tiers().isEmpty() ? "none (build one with: bhatti tier build minimal)" : String.join(", ", engine.tiers()))
                    + ", and your images (bhatti image list; get one with: bhatti image pull REF)");
        }
        if (userImage != null) config = config.withImage(userImage);
        if (Boolean.TRUE.equals(req.runEntrypoint())) config = config.withEntrypoint(image, userImage);
        int diskMb = Limits.diskMb(req.diskSizeMb());
        var wanted = volumes.resolve(user, req.volumes()); // an unknown volume or a bad mount path: no sandbox at all
        Optional<SandboxRecord> existing = store.sandbox(user.id(), name).filter(s -> s.name().equals(name));
        if (existing.isPresent()) return new Created(lifecycle.current(existing.get()), true);
        var record = new SandboxRecord(ApiKeys.randomHex(8), user.id(), name, SandboxStatus.STARTING, "", cpus, memoryMb, image,
                engine.name(), accelerator, Instant.now().truncatedTo(ChronoUnit.MILLIS), Boolean.TRUE.equals(req.keepHot()));
        if (!quotas.admitSandbox(record, user)) {
            // lost a race with a concurrent create of the same name: theirs wins, no second VM
            return new Created(store.sandbox(user.id(), name).orElseThrow(), true);
        }
        List<VolumeDisk> disks;
        try {
            disks = volumes.attach(record, wanted);
        } catch (RuntimeException e) {
            store.deleteSandbox(record.id());
            throw e;
        }
        try {
            GuestNet net = network.attach(record, egress);
            var spec = new VmSpec(record.id(), hostname(name), cpus, memoryMb, image, net).withDiskMb(diskMb).withVolumes(disks);
            VmInfo vm = engine.create(userImage == null ? spec : spec.withImage(userImage.rootfs(), null));
            try {
                config.apply(engine.guest(record.id()));
            } catch (EngineException e) {
                engine.destroy(record.id());
                throw new EngineException(e.kind() == EngineException.Kind.FAILED ? e.kind() : EngineException.Kind.INVALID,
                        "applying the create configuration failed: " + e.getMessage(), e);
            }
            store.setSandboxSecrets(record.id(), secretNames);
            if (!labels.isEmpty()) store.updateSandboxLabels(record.id(), labels);
            // idle from now, before the row says running (the thermal manager leaves a starting one alone):
            // a boot slower than warm_after must not pause it at once
            activity.touch(record.id());
            lifecycle.record(record.id(), SandboxStatus.RUNNING, "");
            if (!vm.accelerator().equals(record.accelerator())) store.updateAccelerator(record.id(), vm.accelerator());
            return new Created(record.withStatus(SandboxStatus.RUNNING, "").withAccelerator(vm.accelerator()), false,
                    userImage == null ? tierHints.warnings(image, cpus, memoryMb) : List.of());
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
        return store.sandboxes(user.id()).stream().map(lifecycle::current).toList();
    }

    public SandboxRecord get(UserRecord user, String idOrName) {
        return lifecycle.current(find(user, idOrName));
    }

    public void destroy(UserRecord user, String idOrName) {
        SandboxRecord s = find(user, idOrName);
        try {
            // A volume outlives its sandbox: what the guest wrote to it must reach its file, not die with the
            // guest's page cache (a database's last commit was lost so: its journal's deletion never landed)
            if (store.sandboxVolumes(s.id()).stream().anyMatch(a -> !a.readOnly())) {
                GuestFlush.flushIfRunning(engine, s.id(), "sandbox " + s.name());
            }
            engine.destroy(s.id());
        } catch (EngineException e) {
            lifecycle.record(s.id(), SandboxStatus.ERROR, "destroy failed: " + e.getMessage());
            throw DomainException.failed("could not destroy sandbox: " + e.getMessage());
        }
        network.detach(s.id());
        store.deleteSandbox(s.id());
        activity.forget(s.id());
        log.info("sandbox {} ({}) destroyed", s.name(), s.id());
    }

    /** Checks that the sandbox exists and runs, waking it first if it is warm or cold. */
    public SandboxRecord awake(UserRecord user, String idOrName) {
        return lifecycle.awake(find(user, idOrName));
    }

    /**
     * Changes what can change on a sandbox: its name (its id, forwards and published aliases stay; 409 if the
     * name is taken), its labels (a null value removes one) and keep_hot. Everything is checked before anything changes.
     */
    public SandboxRecord edit(UserRecord user, String idOrName, Boolean keepHot, Map<String, String> labelChanges, String newName) {
        SandboxRecord s = find(user, idOrName);
        if (newName != null) Limits.name(newName);
        Map<String, String> changes = labelChanges == null ? Map.of() : Labels.changes(labelChanges);
        var after = new java.util.HashMap<>(store.sandboxLabels(s.id()));
        changes.forEach((k, v) -> { if (v == null) after.remove(k); else after.put(k, v); });
        if (after.size() > Labels.MAX_LABELS) throw DomainException.invalid("at most " + Labels.MAX_LABELS + " labels, it would have " + after.size());
        if (newName != null && !newName.equals(s.name())) {
            if (!store.renameSandbox(s.id(), newName)) {
                throw DomainException.conflict("a sandbox named " + newName + " exists already; pick another name");
            }
            log.info("sandbox {} ({}) renamed to {}", s.name(), s.id(), newName);
        }
        if (!changes.isEmpty()) store.updateSandboxLabels(s.id(), changes);
        if (keepHot != null) return keepHot(user, s.id(), keepHot);
        return lifecycle.current(store.sandboxById(s.id()).orElseThrow(() -> DomainException.notFound("sandbox not found: " + s.id())));
    }

    /** The sandbox's labels, by key. */
    public Map<String, String> labels(SandboxRecord s) { return store.sandboxLabels(s.id()); }

    /** Sets whether the thermal manager leaves the sandbox alone; keeping it hot wakes it now. */
    public SandboxRecord keepHot(UserRecord user, String idOrName, boolean keepHot) {
        SandboxRecord s = find(user, idOrName);
        store.updateKeepHot(s.id(), keepHot);
        if (keepHot) lifecycle.awake(s);
        return lifecycle.current(find(user, idOrName));
    }

    public SandboxRecord stop(UserRecord user, String idOrName) { return lifecycle.stop(find(user, idOrName)); }

    /**
     * Resumes a stopped sandbox where it was; {@code force} boots it from its disk when its snapshot is
     * unusable, and hands it its secrets again (they live only in guest memory).
     */
    public SandboxRecord start(UserRecord user, String idOrName, boolean force) {
        SandboxRecord s = find(user, idOrName);
        return lifecycle.start(s, force, guest -> {
            BootConfig.applySecrets(guest, secrets.remainingValues(user, store.sandboxSecrets(s.id())));
            return null;
        });
    }

    public SandboxRecord pause(UserRecord user, String idOrName) { return lifecycle.pause(find(user, idOrName)); }

    public SandboxRecord resume(UserRecord user, String idOrName) { return lifecycle.resume(find(user, idOrName)); }

    long checkpoint(SandboxRecord s, String snapshotId) { return lifecycle.checkpoint(s, snapshotId); }

    /** A filesystem snapshot: the disk and volumes only. */
    long checkpointDisk(SandboxRecord s, String snapshotId) { return lifecycle.checkpointDisk(s, snapshotId); }

    /** The sandbox's root disk as a raw file system image at {@code target} (for {@code image save}). */
    public long exportDisk(SandboxRecord s, Path target) { return lifecycle.exportDisk(s, target); }

    /**
     * Creates a new sandbox running from the moment of {@code snapshot}: same memory, processes and
     * disk, its own id, name and hostname, a reseeded random generator.
     */
    Created createFromSnapshot(UserRecord user, SnapshotRecord snapshot, String requestedName) {
        String name = requestedName == null ? snapshot.name() + "-" + ApiKeys.randomHex(3) : Limits.name(requestedName);
        var record = new SandboxRecord(ApiKeys.randomHex(8), user.id(), name, SandboxStatus.STARTING, "", snapshot.cpus(), snapshot.memoryMb(),
                snapshot.image(), engine.name(), accelerator, Instant.now().truncatedTo(ChronoUnit.MILLIS), false);
        if (!quotas.admitSandbox(record, user)) {
            throw DomainException.conflict("a sandbox named " + name + " exists already; pick another --name");
        }
        // the clone carries the source's secrets in its memory; remember them for a later cold boot
        store.setSandboxSecrets(record.id(), store.sandboxSecrets(snapshot.sourceSandboxId()));
        VolumeAttachments.Prepared prepared;
        try {
            prepared = volumes.prepareResume(user, record, snapshot.id(), engine.snapshotVolumes(snapshot.id()));
        } catch (EngineException | RuntimeException e) {
            store.deleteSandbox(record.id());
            if (e instanceof RuntimeException r) throw r;
            throw DomainException.conflict("snapshot " + snapshot.name() + " cannot be resumed: " + e.getMessage());
        }
        try {
            // the clone gets its own address and MAC (the agent readdresses the guest), with the source's egress
            GuestNet net = engine.snapshotHasNetwork(snapshot.id())
                    ? network.attach(record, store.network(snapshot.sourceSandboxId()).map(n -> new Egress(n.egress().equals("all"), n.allowHosts()))
                            .orElse(Egress.ALL))
                    : null;
            VmInfo vm = engine.createFromSnapshot(snapshot.id(), new VmSpec(record.id(), hostname(name), snapshot.cpus(),
                    snapshot.memoryMb(), snapshot.image(), net).withVolumes(prepared.disks()));
            // a fresh boot of a filesystem snapshot: the secrets lived only in the source's memory
            if (snapshot.filesystem()) BootConfig.applySecrets(engine.guest(record.id()), secrets.remainingValues(user, store.sandboxSecrets(record.id())));
            lifecycle.record(record.id(), SandboxStatus.RUNNING, "");
            activity.touch(record.id());
            if (!vm.accelerator().equals(record.accelerator())) store.updateAccelerator(record.id(), vm.accelerator());
            log.info("sandbox {} ({}) resumed from {} snapshot {}", name, record.id(), snapshot.type(), snapshot.name());
            return new Created(record.withStatus(SandboxStatus.RUNNING, "").withAccelerator(vm.accelerator()), false);
        } catch (EngineException e) {
            network.detach(record.id());
            store.deleteSandbox(record.id());
            volumes.discard(prepared.created());
            throw switch (e.kind()) {
                case INVALID -> DomainException.invalid(e.getMessage());
                case NOT_FOUND -> DomainException.conflict(e.getMessage() + "; delete it with: bhatti snapshot delete " + snapshot.name());
                default -> DomainException.failed("could not resume snapshot " + snapshot.name() + ": " + e.getMessage());
            };
        } catch (RuntimeException e) {
            undo(record.id(), e);
            volumes.discard(prepared.created());
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

    /** A sandbox name as a hostname: letters, digits and '-', as RFC 1123 allows. */
    static String hostname(String name) {
        String h = name.replaceAll("[^A-Za-z0-9-]", "-").replaceAll("^-+", "");
        return h.isEmpty() ? "sandbox" : h;
    }

    /** The sandbox's thermal state (hot, warm, cold) as the engine sees it now, or empty. */
    public String thermal(SandboxRecord s) { return lifecycle.thermal(s); }

    public long diskUsage(SandboxRecord s) { return engine.diskUsage(s.id()); }

    /** Wakes the sandbox if it must and holds it for work in its guest until the result is closed. */
    public SandboxLifecycle.InUse use(UserRecord user, String idOrName) { return lifecycle.use(find(user, idOrName)); }

    public ExecResult exec(UserRecord user, String idOrName, ExecCommand command, ExecListener listener) {
        return onRunning(user, idOrName, guest -> guest.exec(command, listener));
    }

    public Detached execDetached(UserRecord user, String idOrName, ExecCommand command, String outputFile) {
        return onRunning(user, idOrName, guest -> guest.execDetached(command, outputFile));
    }

    /** Runs one operation in a running sandbox's guest (waking it first), its failures as domain errors. */
    public <T> T onRunning(UserRecord user, String idOrName, SandboxLifecycle.GuestCall<T> call) {
        return onRunning(find(user, idOrName), call);
    }

    /** Like {@link #onRunning(UserRecord, String, SandboxLifecycle.GuestCall)} for a sandbox already found (and authorized). */
    public <T> T onRunning(SandboxRecord sandbox, SandboxLifecycle.GuestCall<T> call) {
        try (var inUse = lifecycle.use(sandbox)) {
            return inUse.call(call);
        }
    }

    /** Marks the sandbox busy (never cooled) until the returned token is closed: for attached shells. */
    public Activity.Busy busy(SandboxRecord s) { return lifecycle.busy(s); }

    public Activity.Busy busy(UserRecord user, String idOrName) { return lifecycle.busy(find(user, idOrName)); }

    public Optional<SandboxRecord> byId(String sandboxId) { return store.sandboxById(sandboxId); }

    /**
     * After a daemon restart: re-attach to VMs that still run and record the truth about the others.
     * A create the last daemon did not finish is undone, as a failed create is: its caller got no
     * answer, and its configuration (env, files, secrets, init) was not or not wholly applied, so a
     * retry must not find it as an existing sandbox. A sandbox whose files are gone (a destroy cut short)
     * has nothing left to adopt or boot: its destroy is finished.
     */
    public void recover() {
        for (SandboxRecord s : store.allSandboxes()) {
            if (s.status() == SandboxStatus.STARTING) {
                remove(s, "the daemon stopped during its create");
                events.record("sandbox.create_failed", null, s.name(), "the daemon stopped during the create");
                continue;
            }
            if (!engine.hasFiles(s.id())) {
                remove(s, "its files are gone (the daemon stopped during its destroy)");
                continue;
            }
            VmInfo vm = engine.adopt(s.id());
            SandboxStatus status = vm.state() == VmState.STARTING ? SandboxStatus.ERROR : SandboxLifecycle.statusOf(vm.state());
            String detail = vm.state() == VmState.RUNNING ? "" : vm.detail();
            lifecycle.record(s.id(), status, detail);
            log.info("recovered sandbox {} ({}): {}", s.name(), s.id(), status);
        }
    }

    /** Removes a sandbox at recovery: its VM and files, then its row (its TAP goes as an orphan at network start). */
    private void remove(SandboxRecord s, String why) {
        try {
            engine.destroy(s.id());
        } catch (EngineException e) {
            lifecycle.record(s.id(), SandboxStatus.ERROR, why + "; its files could not be removed (" + e.getMessage() + "): destroy it");
            log.warn("sandbox {} ({}): {}; could not remove it: {}", s.name(), s.id(), why, e.getMessage());
            return;
        }
        store.deleteSandbox(s.id());
        log.info("removed sandbox {} ({}): {}", s.name(), s.id(), why);
    }

    /** The sandbox's volumes, in their order. */
    public List<SandboxView.Volume> volumes(SandboxRecord s) {
        return store.sandboxVolumes(s.id()).stream().map(a -> new SandboxView.Volume(a.volumeName(), a.mount(), a.readOnly())).toList();
    }

    /** What a user sees of the sandbox's network, if it has one. */
    public Optional<SandboxNetwork.View> networkView(SandboxRecord s) { return network.view(s.id()); }

    SandboxRecord find(UserRecord user, String idOrName) {
        return store.sandbox(user.id(), idOrName)
                .orElseThrow(() -> DomainException.notFound("sandbox not found: " + Limits.printable(idOrName)));
    }
}

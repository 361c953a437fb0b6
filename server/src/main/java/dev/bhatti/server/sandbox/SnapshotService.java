package dev.bhatti.server.sandbox;

import dev.bhatti.engine.Engine;
import dev.bhatti.engine.EngineException;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.quota.Quotas;
import dev.bhatti.server.auth.ApiKeys;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.SnapshotRecord;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;
import dev.bhatti.server.volume.VolumeAttachments;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Named snapshots of a user's sandboxes: the exact moment of a sandbox (memory, processes, disk), kept
 * after the sandbox goes on or is destroyed, and resumable any number of times as new sandboxes.
 * The store row takes the name first (status creating) and becomes ready once the engine's files are
 * complete, so a daemon killed in between finds and removes the half-made snapshot at its next start.
 */
public final class SnapshotService {
    private static final Logger log = LoggerFactory.getLogger(SnapshotService.class);

    private final Store store;
    private final Engine engine;
    private final SandboxService sandboxes;
    private final Quotas quotas;
    /** Resumes read a snapshot's files, delete removes them: one snapshot is never both at once. */
    private final Map<String, ReentrantReadWriteLock> locks = new ConcurrentHashMap<>();

    private final VolumeAttachments volumes;
    private final Forks forks;

    public SnapshotService(Store store, Engine engine, SandboxService sandboxes, VolumeAttachments volumes) {
        this.volumes = volumes;
        this.forks = new Forks(store, engine, sandboxes, volumes);
        this.store = store;
        this.engine = engine;
        this.sandboxes = sandboxes;
        this.quotas = new Quotas(store);
    }

    public SnapshotRecord create(UserRecord user, String sandboxIdOrName, String name) {
        return create(user, sandboxIdOrName, name, null);
    }

    /**
     * {@code type}: memory (default: memory, processes and disk) or filesystem (the disk and volumes only;
     * cheaper, and resumed as a fresh boot).
     */
    public SnapshotRecord create(UserRecord user, String sandboxIdOrName, String name, String type) {
        if (name == null) throw DomainException.invalid("name is required");
        Limits.name(name);
        String kind = type == null ? SnapshotRecord.MEMORY : type;
        if (!kind.equals(SnapshotRecord.MEMORY) && !kind.equals(SnapshotRecord.FILESYSTEM)) {
            throw DomainException.invalid("type must be memory or filesystem, got " + Limits.printable(kind));
        }
        SandboxRecord s = sandboxes.find(user, sandboxIdOrName);
        var record = new SnapshotRecord(ApiKeys.randomHex(8), user.id(), name, "creating", s.id(), s.name(), s.cpus(), s.memoryMb(),
                s.image(), 0, Instant.now().truncatedTo(ChronoUnit.MILLIS), kind);
        long used = quotas.admitSnapshot(record, user);
        try {
            long size = record.filesystem() ? sandboxes.checkpointDisk(s, record.id()) : sandboxes.checkpoint(s, record.id());
            try {
                quotas.checkSnapshotStorage(user, used, size);
            } catch (DomainException e) { // a snapshot over the limit does not stay
                deleteFiles(record.id());
                throw e;
            }
            volumes.recordSnapshot(record.id(), s.id());
            store.markSnapshotReady(record.id(), size);
            log.info("{} snapshot {} of sandbox {} taken ({} KiB)", kind, name, s.name(), size / 1024);
            return record.ready(size);
        } catch (RuntimeException e) {
            store.deleteSnapshot(record.id()); // the engine left no files behind
            throw e;
        }
    }

    /** The user's snapshots; a fork's temporary one is not the user's to see. */
    public List<SnapshotRecord> list(UserRecord user) {
        return store.snapshots(user.id()).stream().filter(s -> !s.status().equals(Forks.FORKING)).toList();
    }

    /** A new sandbox from {@code req.from()}'s current moment, through a snapshot that is not kept (see {@link Forks}). */
    public SandboxService.Created fork(UserRecord user, SandboxService.CreateRequest req) { return forks.fork(user, req); }

    public SnapshotRecord get(UserRecord user, String idOrName) { return find(user, idOrName); }

    public void delete(UserRecord user, String idOrName) {
        SnapshotRecord snap = find(user, idOrName);
        if (!snap.status().equals("ready")) throw DomainException.conflict("snapshot " + snap.name() + " is still being written");
        var lock = lock(snap.id()).writeLock();
        lock.lock();
        try {
            // the row first: files no row names are removed at the next start, a row whose files are half gone would stay
            store.deleteSnapshot(snap.id());
            deleteFiles(snap.id());
        } finally {
            lock.unlock();
            locks.remove(snap.id());
        }
        log.info("snapshot {} ({}) deleted", snap.name(), snap.id());
    }

    /** A new sandbox from the snapshot's moment; the snapshot stays for further resumes. */
    public SandboxService.Created resume(UserRecord user, String idOrName, String newName) {
        if (newName != null) Limits.name(newName); // a bad name is refused whatever the snapshot
        SnapshotRecord snap = find(user, idOrName);
        if (!snap.status().equals("ready")) throw DomainException.conflict("snapshot " + snap.name() + " is still being written");
        var lock = lock(snap.id()).readLock();
        lock.lock();
        try {
            if (store.snapshot(user.id(), snap.id()).isEmpty()) throw notFound(idOrName); // deleted while we waited
            return sandboxes.createFromSnapshot(user, snap, newName);
        } finally {
            lock.unlock();
        }
    }

    /**
     * At daemon start: rows of snapshots that were being written when the last daemon died are removed
     * with their files; files no row knows of are removed.
     */
    public void reconcile() {
        var known = new HashSet<String>();
        for (SnapshotRecord snap : store.allSnapshots()) {
            if (snap.status().equals("ready")) {
                known.add(snap.id());
                continue;
            }
            try {
                engine.deleteSnapshot(snap.id());
                store.deleteSnapshot(snap.id());
                log.info("removed snapshot {} ({}): the daemon stopped while it was being written", snap.name(), snap.id());
            } catch (EngineException e) {
                log.warn("could not remove unfinished snapshot {}: {}", snap.id(), e.getMessage());
            }
        }
        for (String id : engine.snapshots()) {
            if (known.contains(id)) continue;
            try {
                engine.deleteSnapshot(id);
                log.info("removed snapshot files {} that no snapshot record names", id);
            } catch (EngineException e) {
                log.warn("could not remove orphaned snapshot {}: {}", id, e.getMessage());
            }
        }
    }

    private void deleteFiles(String snapshotId) {
        try {
            engine.deleteSnapshot(snapshotId);
        } catch (EngineException e) {
            log.warn("could not remove snapshot files {}: {} (removed at the next start)", snapshotId, e.getMessage());
        }
    }

    private ReentrantReadWriteLock lock(String snapshotId) {
        return locks.computeIfAbsent(snapshotId, k -> new ReentrantReadWriteLock());
    }

    private SnapshotRecord find(UserRecord user, String idOrName) {
        return store.snapshot(user.id(), idOrName).filter(s -> !s.status().equals(Forks.FORKING)).orElseThrow(() -> notFound(idOrName));
    }

    private static DomainException notFound(String idOrName) {
        return DomainException.notFound("snapshot not found: " + Limits.printable(idOrName));
    }
}

package dev.bhatti.server.volume;

import dev.bhatti.engine.Engine;
import dev.bhatti.engine.EngineException;
import dev.bhatti.server.auth.ApiKeys;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.quota.Quotas;
import dev.bhatti.server.sandbox.GuestFlush;
import dev.bhatti.server.sandbox.Limits;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;
import dev.bhatti.server.store.VolumeAttachment;
import dev.bhatti.server.store.VolumeRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Users' volumes: ext4 file systems that outlive sandboxes, attached at create as extra disks and mounted
 * by the guest agent. A read-write volume is attached to one sandbox at a time, a read-only one to any
 * number (and then to none read-write). Volumes count against the user's storage with snapshots and
 * images. Changes that need the volume detached (resize, restore, delete) claim it in the store first, so
 * a create cannot attach it meanwhile.
 */
public final class VolumeService {
    private static final Logger log = LoggerFactory.getLogger(VolumeService.class);
    public static final int MAX_SIZE_MB = 1 << 20;

    private final Store store;
    private final Engine engine;
    private final VolumeFiles files;
    private final Quotas quotas;
    /** One file operation (check, copy) at a time per volume. */
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    public VolumeService(Store store, Engine engine, VolumeFiles files) {
        this.store = store;
        this.engine = engine;
        this.files = files;
        this.quotas = new Quotas(store);
    }

    public Path file(VolumeRecord v) { return files.file(v.userId(), v.id()); }

    VolumeFiles files() { return files; }

    public VolumeRecord create(UserRecord user, String name, Integer sizeMb) {
        if (name == null) throw DomainException.invalid("name is required");
        Limits.name(name);
        int size = size(sizeMb, user);
        var v = insert(user, name, size, "empty");
        try {
            files.create(file(v), size, name);
            store.markVolumeReady(v.id());
        } catch (RuntimeException e) {
            store.deleteVolume(v.id());
            throw e;
        }
        log.info("volume {} of {} created ({} MB)", name, user.name(), size);
        return store.volumeById(v.id()).orElseThrow();
    }

    public List<VolumeRecord> list(UserRecord user) { return store.volumes(user.id()); }

    public VolumeRecord get(UserRecord user, String name) {
        return store.volume(user.id(), name == null ? "" : name)
                .orElseThrow(() -> DomainException.notFound("volume not found: " + Limits.printable(name)
                        + "; your volumes: bhatti volume list"));
    }

    public List<VolumeAttachment> attachments(VolumeRecord v) { return store.volumeAttachments(v.id()); }

    /** Bytes of the volume's file actually written (it is sparse). */
    public long usedBytes(VolumeRecord v) { return VolumeFiles.allocated(file(v)); }

    public void delete(UserRecord user, String name) {
        VolumeRecord v = get(user, name);
        refuseIfAttached(v, "delete");
        withLock(v, () -> {
            if (!store.deleteVolume(v.id())) refuseIfAttached(v, "delete"); // attached meanwhile
            files.delete(file(v));
            return null;
        });
        log.info("volume {} of {} deleted", v.name(), user.name());
    }

    /** Grows the volume and its file system; only while it is attached nowhere. */
    public VolumeRecord resize(UserRecord user, String name, Integer sizeMb) {
        VolumeRecord v = get(user, name);
        int size = size(sizeMb, user);
        if (size < v.sizeMb()) {
            throw DomainException.invalid("volumes only grow: " + v.name() + " is " + v.sizeMb() + " MB, asked " + size + " MB");
        }
        if (size == v.sizeMb()) return v;
        refuseIfAttached(v, "resize");
        return withLock(v, () -> {
            refuseIfAttached(v, "resize");
            if (!store.resizeVolume(v.id(), size, volumeLimitMb(user))) {
                throw quotas.storageLimit(user, "growing " + v.name() + " by " + (size - v.sizeMb()) + " MB does not fit");
            }
            try {
                files.grow(file(v), size);
            } catch (RuntimeException e) {
                store.resizeVolume(v.id(), v.sizeMb(), Long.MAX_VALUE); // the file system kept its size
                throw e;
            }
            log.info("volume {} of {} resized {} -> {} MB", v.name(), user.name(), v.sizeMb(), size);
            return store.volumeById(v.id()).orElseThrow();
        });
    }

    /** A new volume with the contents of {@code name} now (consistent even while a sandbox writes it). */
    public VolumeRecord cloneVolume(UserRecord user, String name, String newName) {
        VolumeRecord source = get(user, name);
        if (newName == null) throw DomainException.invalid("name of the clone is required (--name)");
        Limits.name(newName);
        var copy = insert(user, newName, source.sizeMb(), "clone of " + source.name());
        try {
            withConsistentFile(source, f -> {
                files.copy(f, file(copy));
                return null;
            });
            store.markVolumeReady(copy.id());
        } catch (RuntimeException e) {
            files.delete(file(copy));
            store.deleteVolume(copy.id());
            throw e;
        }
        log.info("volume {} of {} cloned to {}", source.name(), user.name(), newName);
        return store.volumeById(copy.id()).orElseThrow();
    }

    /**
     * Runs {@code work} on a file holding the volume's contents at one moment: the volume's own file when
     * no sandbox writes it, else a copy taken while the writer's guest is synced and its vCPUs stand still
     * (removed afterwards).
     */
    public <T> T withConsistentFile(VolumeRecord v, FileWork<T> work) {
        return withLock(v, () -> {
            var writer = store.volumeAttachments(v.id()).stream().filter(a -> !a.readOnly()).findFirst();
            if (writer.isEmpty()) return work.run(file(v));
            String sandboxId = writer.get().sandboxId();
            Path staging = file(v).resolveSibling(v.id() + ".snapshot");
            try {
                GuestFlush.flushIfRunning(engine, sandboxId, "sandbox " + writer.get().sandboxName());
                engine.whileStill(sandboxId, () -> {
                    files.copy(file(v), staging);
                    return null;
                });
                return work.run(staging);
            } catch (EngineException e) {
                throw DomainException.failed("could not take a consistent copy of volume " + v.name() + ": " + e.getMessage());
            } finally {
                VolumeFiles.deleteQuietly(staging);
            }
        });
    }

    @FunctionalInterface
    public interface FileWork<T> {
        T run(Path file);
    }

    /** Writes a volume's file at the path given, from another source (a backup). */
    @FunctionalInterface
    public interface FileWriter {
        void write(Path target);
    }

    /**
     * A new volume {@code name} of {@code sizeBytes} (rounded up to MB) whose file {@code writer} makes;
     * nothing is left when it fails.
     */
    public VolumeRecord createFrom(UserRecord user, String name, long sizeBytes, String source, FileWriter writer) {
        Limits.name(name);
        int sizeMb = (int) Math.max(1, (sizeBytes + (1 << 20) - 1) >> 20);
        var v = insert(user, name, sizeMb, source);
        try {
            files.prepare(file(v));
            writer.write(file(v));
            store.markVolumeReady(v.id());
        } catch (RuntimeException e) {
            files.delete(file(v));
            store.deleteVolume(v.id());
            throw e;
        }
        log.info("volume {} of {} made from {}", name, user.name(), source);
        return store.volumeById(v.id()).orElseThrow();
    }

    /**
     * Replaces the contents of a volume attached nowhere with what {@code writer} puts at its path (which
     * must replace the file atomically, or leave it as it was); its size becomes {@code sizeBytes}.
     */
    public VolumeRecord replaceContents(UserRecord user, String name, long sizeBytes, FileWriter writer) {
        VolumeRecord v = get(user, name);
        int sizeMb = (int) Math.max(1, (sizeBytes + (1 << 20) - 1) >> 20);
        refuseIfAttached(v, "restore into");
        return withLock(v, () -> {
            refuseIfAttached(v, "restore into");
            if (sizeMb != v.sizeMb() && !store.resizeVolume(v.id(), sizeMb, volumeLimitMb(user))) {
                throw quotas.storageLimit(user, "the backup is " + sizeMb + " MB");
            }
            try {
                writer.write(file(v));
            } catch (RuntimeException e) {
                if (sizeMb != v.sizeMb()) store.resizeVolume(v.id(), v.sizeMb(), Long.MAX_VALUE);
                throw e;
            }
            store.bumpVolumeGeneration(v.id()); // a snapshot's view of it is stale now
            log.info("volume {} of {} restored", v.name(), user.name());
            return store.volumeById(v.id()).orElseThrow();
        });
    }

    // ---------------------------------------------------------------- start

    /**
     * At daemon start: volumes whose file was being made when the last daemon died are removed; files no
     * row names are removed. Attachments went with their sandboxes' rows.
     */
    public void reconcile() {
        var known = new HashSet<Path>();
        for (VolumeRecord v : store.allVolumes()) {
            Path f = file(v);
            if (v.status().equals(VolumeRecord.READY) && Files.exists(f)) {
                known.add(f);
                continue;
            }
            if (v.status().equals(VolumeRecord.READY)) {
                log.warn("volume {} ({}) has no file {}; it stays listed, and attaching it fails until it is deleted", v.name(), v.id(), f);
                continue;
            }
            if (store.deleteVolume(v.id())) {
                files.delete(f);
                log.info("removed volume {} ({}): the daemon stopped while it was being made", v.name(), v.id());
            }
        }
        for (Path f : files.files()) {
            if (known.contains(f)) continue;
            VolumeFiles.deleteQuietly(f);
            log.info("removed volume file {} that no volume names", f);
        }
    }

    // ---------------------------------------------------------------- helpers

    /** The row of a new volume (status creating) if the user's storage holds it. */
    VolumeRecord insert(UserRecord user, String name, int sizeMb, String source) {
        var v = new VolumeRecord(ApiKeys.randomHex(8), user.id(), name, sizeMb, VolumeRecord.CREATING, 0, source,
                Instant.now().truncatedTo(ChronoUnit.MILLIS));
        return switch (store.insertVolume(v, volumeLimitMb(user))) {
            case INSERTED -> v;
            case NAME_TAKEN -> throw DomainException.conflict("volume " + name + " exists already; pick another name or delete it first");
            case OVER_LIMIT -> throw quotas.storageLimit(user, "a volume of " + sizeMb + " MB does not fit");
        };
    }

    /** MB the user's volumes may add up to: the storage limit less what snapshots and images take. */
    private long volumeLimitMb(UserRecord user) {
        return user.maxStorageMb() - (quotas.storageUsedBesidesVolumes(user) + (1 << 20) - 1 >> 20);
    }

    private static int size(Integer sizeMb, UserRecord user) {
        if (sizeMb == null) throw DomainException.invalid("size_mb is required (a volume's size in MB, like 10240 for 10 GB)");
        if (sizeMb < 1) throw DomainException.invalid("size_mb must be at least 1, got " + sizeMb);
        int max = Math.min(MAX_SIZE_MB, user.maxStorageMb());
        if (sizeMb > max) {
            throw DomainException.invalid("size_mb " + sizeMb + " is over " + (max == user.maxStorageMb() ? "your storage limit of " : "the largest volume, ")
                    + max + " MB");
        }
        if (sizeMb < 8) throw DomainException.invalid("a volume must be at least 8 MB (ext4 needs room for its journal), got " + sizeMb);
        return sizeMb;
    }

    private void refuseIfAttached(VolumeRecord v, String what) {
        var attached = store.volumeAttachments(v.id());
        if (!attached.isEmpty()) {
            throw DomainException.conflict("cannot " + what + " volume " + v.name() + ": it is attached to sandbox "
                    + String.join(", ", attached.stream().map(VolumeAttachment::sandboxName).toList())
                    + "; destroy that sandbox first (the volume stays)");
        }
    }

    interface Locked<T> { T run(); }

    <T> T withLock(VolumeRecord v, Locked<T> work) {
        var lock = locks.computeIfAbsent(v.id(), k -> new ReentrantLock());
        lock.lock();
        try {
            return work.run();
        } finally {
            lock.unlock();
        }
    }
}

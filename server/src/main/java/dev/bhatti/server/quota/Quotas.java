package dev.bhatti.server.quota;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.SnapshotRecord;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;

/**
 * Where a user's limits are enforced, all of them: sandboxes, vCPUs and memory (checked with the
 * insert in one SQL statement, so concurrent creates cannot pass a limit together), snapshots and the
 * storage they take, and secrets. A refusal is {@link DomainException.LimitReached} and says what to
 * free. (A single sandbox asking for more vCPUs or memory than the user's whole limit is bad input,
 * refused before this, by {@code sandbox.Limits}.)
 */
public final class Quotas {
    /** Secrets one user may hold. */
    public static final int MAX_SECRETS = 100;

    private final Store store;

    public Quotas(Store store) { this.store = store; }

    /** Inserts the sandbox's row if the user's limits allow it; false if the user has a sandbox of that name. */
    public boolean admitSandbox(SandboxRecord sandbox, UserRecord user) {
        return switch (store.insertSandbox(sandbox, user)) {
            case INSERTED -> true;
            case NAME_TAKEN -> false;
            case OVER_LIMIT -> throw sandboxLimit(user, sandbox.cpus(), sandbox.memoryMb());
        };
    }

    /**
     * Refuses early, before any costly work, a sandbox the user's limits would not admit (a fork checks so
     * before it copies its source); {@link #admitSandbox} checks again with the insert.
     */
    public void checkSandbox(UserRecord user, int cpus, int memoryMb) {
        var used = store.usage(user.id());
        if (used.sandboxes() + 1 > user.maxSandboxes() || used.cpus() + cpus > user.maxCpus() || used.memoryMb() + memoryMb > user.maxMemoryMb()) {
            throw sandboxLimit(user, cpus, memoryMb);
        }
    }

    /** Which of the user's limits a refused create would have passed, in words that say what to do. */
    private DomainException sandboxLimit(UserRecord user, int cpus, int memoryMb) {
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

    /**
     * Inserts the snapshot's row (status creating) if the user may have one more and has storage left;
     * returns the bytes the user's snapshots take already.
     */
    public long admitSnapshot(SnapshotRecord snapshot, UserRecord user) {
        if (!store.insertSnapshot(snapshot, user.maxSnapshots())) {
            if (store.snapshot(user.id(), snapshot.name()).filter(x -> x.name().equals(snapshot.name())).isPresent()) {
                throw DomainException.conflict("snapshot " + snapshot.name() + " exists already; delete it first or pick another --name");
            }
            throw DomainException.limitReached("snapshot limit reached (" + user.maxSnapshots() + "); delete one with: bhatti snapshot delete NAME");
        }
        long used = storageUsed(user);
        if (used >= storageBytes(user)) {
            store.deleteSnapshot(snapshot.id());
            throw storageLimit(user, used);
        }
        return used;
    }

    /** A snapshot's size is known only once written: whether the user's storage holds it too. */
    public void checkSnapshotStorage(UserRecord user, long usedBefore, long size) {
        if (usedBefore + size > storageBytes(user)) throw storageLimit(user, usedBefore + size);
    }

    /**
     * Bytes the user's storage holds: snapshots and own images as they take on disk, volumes at their full
     * size (a volume may fill up to it at any time). One storage limit holds them all.
     */
    public long storageUsed(UserRecord user) {
        return storageUsedBesidesVolumes(user) + (store.volumeMb(user.id()) << 20);
    }

    /** Bytes the user's snapshots and own images take. */
    public long storageUsedBesidesVolumes(UserRecord user) {
        return store.snapshots(user.id()).stream().mapToLong(SnapshotRecord::sizeBytes).sum() + store.imageBytes(user.id());
    }

    /**
     * Whether {@code bytes} more (an image about to be written, its size known or estimated) fit the user's
     * storage; refused before anything is written.
     */
    public void admitImage(UserRecord user, long bytes) {
        long used = storageUsed(user);
        if (used + bytes > storageBytes(user)) throw storageLimit(user, used + bytes);
    }

    /** Bytes the user may still store (0 when at or over the limit). */
    public long storageLeft(UserRecord user) { return Math.max(0, storageBytes(user) - storageUsed(user)); }

    /** The storage limit refusal, with why. */
    public DomainException storageLimit(UserRecord user, String why) {
        return DomainException.limitReached("storage limit reached (" + (storageUsed(user) >> 20) + " of " + user.maxStorageMb()
                + " MB used by snapshots, images and volumes): " + why + "; delete a snapshot, an image or a volume");
    }

    private static long storageBytes(UserRecord user) { return (long) user.maxStorageMb() << 20; }

    private static DomainException storageLimit(UserRecord user, long bytes) {
        return DomainException.limitReached("storage limit reached (" + (bytes >> 20) + " of " + user.maxStorageMb()
                + " MB, snapshots, images and volumes together); delete a snapshot (bhatti snapshot delete NAME), an image "
                + "(bhatti image delete NAME) or a volume (bhatti volume delete NAME)");
    }

    /** Whether the user may add a secret named {@code name} (replacing one is always allowed). */
    public void admitSecret(UserRecord user, String name) {
        boolean exists = store.secretCiphertext(user.id(), name).isPresent();
        if (!exists && store.secrets(user.id()).size() >= MAX_SECRETS) {
            throw DomainException.limitReached("secret limit reached (" + MAX_SECRETS + "); delete one first");
        }
    }
}

package dev.bhatti.server.volume;

import dev.bhatti.engine.VolumeDisk;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.auth.ApiKeys;
import dev.bhatti.server.sandbox.Limits;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.SnapshotVolume;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;
import dev.bhatti.server.store.VolumeAttachment;
import dev.bhatti.server.store.VolumeRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;

/**
 * Volumes and sandboxes: which volumes a create asks for and where they go, attaching them (a read-write
 * volume to one sandbox at a time, a read-only one to any number), and the volumes of named snapshots:
 * recorded when one is taken, given to the sandbox a resume makes.
 */
public final class VolumeAttachments {
    private static final Logger log = LoggerFactory.getLogger(VolumeAttachments.class);

    /** A volume a create asks for: {@code readOnly} null means read-write. */
    public record Requested(String name, String mount, Boolean readOnly) {}

    /** A requested volume found and its mount checked. */
    public record Resolved(VolumeRecord volume, String mount, boolean readOnly) {}

    /** The volumes a resumed snapshot gets: the disks in order and the volumes made for it. */
    public record Prepared(List<VolumeDisk> disks, List<VolumeRecord> created) {}

    private final Store store;
    private final VolumeService volumes;

    public VolumeAttachments(Store store, VolumeService volumes) {
        this.store = store;
        this.volumes = volumes;
    }

    /** Finds the volumes a create asks for and checks where they go; nothing is written. */
    public List<Resolved> resolve(UserRecord user, List<Requested> requested) {
        if (requested == null || requested.isEmpty()) return List.of();
        if (requested.size() > VolumeDisk.MAX_PER_VM) {
            throw DomainException.invalid("at most " + VolumeDisk.MAX_PER_VM + " volumes per sandbox, asked " + requested.size());
        }
        var resolved = new ArrayList<Resolved>();
        var mounts = new HashSet<String>();
        var names = new HashSet<String>();
        for (Requested r : requested) {
            if (r == null || r.name() == null || r.mount() == null) throw DomainException.invalid("each volume needs a name and a mount path");
            String mount = MountPaths.check(r.mount());
            for (String m : mounts) {
                if (m.equals(mount) || mount.startsWith(m + "/") || m.startsWith(mount + "/")) {
                    throw DomainException.invalid("volume mount paths must not overlap: " + m + " and " + mount);
                }
            }
            mounts.add(mount);
            if (!names.add(r.name())) throw DomainException.invalid("volume " + Limits.printable(r.name()) + " is asked for twice");
            resolved.add(new Resolved(volumes.get(user, r.name()), mount, Boolean.TRUE.equals(r.readOnly())));
        }
        return resolved;
    }

    /**
     * Attaches the volumes to a sandbox whose row exists: refused with 409 when a read-write one is in use
     * or a read-only one is being written. Volumes attached nowhere else are checked (an unclean stop
     * leaves a journal a read-only mount cannot replay). Returns the disks for the VM, in order.
     */
    public List<VolumeDisk> attach(SandboxRecord sandbox, List<Resolved> resolved) {
        if (resolved.isEmpty()) return List.of();
        var rows = new ArrayList<VolumeAttachment>();
        for (int i = 0; i < resolved.size(); i++) {
            Resolved r = resolved.get(i);
            rows.add(new VolumeAttachment(r.volume().id(), r.volume().name(), sandbox.id(), sandbox.name(), i, r.mount(), r.readOnly()));
        }
        store.attachVolumes(sandbox.id(), rows).ifPresent(why -> { throw DomainException.conflict(why); });
        try {
            var disks = new ArrayList<VolumeDisk>();
            for (Resolved r : resolved) {
                if (store.volumeAttachments(r.volume().id()).size() == 1) checkFileSystem(r.volume());
                disks.add(new VolumeDisk(volumes.file(r.volume()), r.mount(), r.readOnly()));
            }
            return disks;
        } catch (RuntimeException e) {
            store.detachVolumes(sandbox.id());
            throw e;
        }
    }

    private void checkFileSystem(VolumeRecord v) {
        volumes.withLock(v, () -> {
            try {
                volumes.files().check(volumes.file(v), false);
            } catch (IOException e) {
                throw DomainException.failed("volume " + v.name() + ": " + e.getMessage());
            }
            return null;
        });
    }

    // ---------------------------------------------------------------- snapshots

    /** Remembers which volumes a named snapshot carries (their copies are in its files). */
    public void recordSnapshot(String snapshotId, String sandboxId) {
        var volumes = new ArrayList<SnapshotVolume>();
        for (VolumeAttachment a : store.sandboxVolumes(sandboxId)) {
            long generation = store.volumeById(a.volumeId()).map(VolumeRecord::generation).orElse(-1L);
            volumes.add(new SnapshotVolume(a.position(), a.volumeId(), a.volumeName(), generation, a.mount(), a.readOnly()));
        }
        if (!volumes.isEmpty()) store.setSnapshotVolumes(snapshotId, volumes);
    }

    /**
     * The volumes of a sandbox resumed from a snapshot, whose row exists. A read-only volume unchanged
     * since the snapshot (same generation) is attached again; every other becomes a new volume of the
     * user, {@code <volume>-<sandbox>}, made from the snapshot's copy, so the clone sees exactly the
     * files its memory remembers and the original volume is never overwritten.
     */
    public Prepared prepareResume(UserRecord user, SandboxRecord sandbox, String snapshotId, List<Path> copies) {
        var saved = store.snapshotVolumes(snapshotId);
        if (saved.size() != copies.size()) {
            throw DomainException.failed("snapshot " + snapshotId + " has " + copies.size() + " volume copies but records " + saved.size());
        }
        var created = new ArrayList<VolumeRecord>();
        var resolved = new ArrayList<Resolved>();
        try {
            for (int i = 0; i < saved.size(); i++) {
                SnapshotVolume s = saved.get(i);
                Optional<VolumeRecord> original = store.volumeById(s.volumeId());
                boolean reuse = s.readOnly() && original.isPresent() && original.get().generation() == s.generation()
                        && original.get().status().equals(VolumeRecord.READY);
                if (reuse) {
                    resolved.add(new Resolved(original.get(), s.mount(), true));
                    continue;
                }
                Path copy = copies.get(i);
                int sizeMb = (int) Math.max(1, sizeOf(copy) >> 20);
                var v = volumes.insert(user, freeName(user, s.volumeName(), sandbox.name()), sizeMb, "snapshot copy of " + s.volumeName());
                created.add(v);
                volumes.files().copy(copy, volumes.file(v));
                store.markVolumeReady(v.id());
                resolved.add(new Resolved(store.volumeById(v.id()).orElseThrow(), s.mount(), s.readOnly()));
            }
            return new Prepared(attach(sandbox, resolved), created);
        } catch (RuntimeException e) {
            discard(created);
            throw e;
        }
    }

    /** Removes volumes made for a resume that failed (their attachments went with the sandbox's row). */
    public void discard(List<VolumeRecord> created) {
        for (VolumeRecord v : created) {
            try {
                if (store.deleteVolume(v.id())) volumes.files().delete(volumes.file(v));
            } catch (RuntimeException e) {
                log.warn("could not remove volume {} made for a failed resume: {}", v.name(), e.getMessage());
            }
        }
    }

    private String freeName(UserRecord user, String volume, String sandbox) {
        String name = trim(volume + "-" + sandbox);
        if (store.volume(user.id(), name).isEmpty()) return name;
        return trim(volume) + "-" + ApiKeys.randomHex(3);
    }

    private static String trim(String name) { return name.length() > 56 ? name.substring(0, 56) : name; }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw DomainException.failed("the snapshot's volume copy " + file.getFileName() + " is unreadable: " + e.getMessage());
        }
    }
}

package dev.bhatti.server.volume;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.sandbox.Limits;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;
import dev.bhatti.server.store.VolumeRecord;
import dev.bhatti.server.task.Tasks;
import dev.bhatti.server.volume.backup.BackupException;
import dev.bhatti.server.volume.backup.BackupInfo;
import dev.bhatti.server.volume.backup.VolumeBackups;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.function.LongConsumer;

/**
 * Backups of users' volumes to the S3-compatible store of config.yaml ({@link VolumeBackups}): taken from
 * a consistent state of the volume, run as tasks the client follows, restored into the volume (detached)
 * or into a new one. Backups are found by volume name, so a deleted volume's backups can still be
 * restored under another name.
 */
public final class VolumeBackupService {
    private static final Logger log = LoggerFactory.getLogger(VolumeBackupService.class);

    private final VolumeService volumes;
    private final VolumeBackups backups;
    private final Tasks tasks;
    private final Store store;

    /** {@code backups} is null when config.yaml has no backup section. */
    public VolumeBackupService(VolumeService volumes, VolumeBackups backups, Tasks tasks, Store store) {
        this.volumes = volumes;
        this.backups = backups;
        this.tasks = tasks;
        this.store = store;
    }

    /** Starts a backup of the volume as it is now; the task's result is the backup's id. */
    public Tasks.Task backup(UserRecord user, String name) {
        VolumeBackups b = configured();
        VolumeRecord v = volumes.get(user, name);
        return tasks.start(user.id(), "backup of volume " + v.name(), task -> {
            task.phase("backing up");
            task.parts(new long[] {(long) v.sizeMb() << 20});
            BackupInfo info = backupNow(b, v, bytes -> task.progress(0, bytes));
            return info.id();
        });
    }

    /** The scheduled backup of {@code volume} of user {@code userName}, then keeping the newest {@code retention}. */
    public void scheduled(String userName, String volume, int retention) {
        VolumeBackups b = configured();
        UserRecord user = store.userByName(userName).orElseThrow(() -> new IllegalStateException("no user " + userName));
        VolumeRecord v = volumes.get(user, volume);
        BackupInfo info = backupNow(b, v, bytes -> { });
        List<String> dropped = translate(() -> b.retain(user.id(), v.name(), retention));
        log.info("scheduled backup {} of volume {} of {}: {} KiB uploaded; {} old backup(s) deleted", info.id(), v.name(), userName,
                info.uploadedBytes() / 1024, dropped.size());
    }

    private BackupInfo backupNow(VolumeBackups b, VolumeRecord v, LongConsumer progress) {
        BackupInfo info = volumes.withConsistentFile(v, file -> translate(() -> b.backup(v.userId(), v.name(), file, progress)));
        log.info("backup {} of volume {} ({} of {} chunks new, {} KiB uploaded in {} ms)", info.id(), v.name(), info.uploadedChunks(),
                info.chunkCount(), info.uploadedBytes() / 1024, info.millis());
        return info;
    }

    public List<BackupInfo> list(UserRecord user, String name) {
        VolumeBackups b = configured();
        return translate(() -> b.list(user.id(), Limits.name(name)));
    }

    public void delete(UserRecord user, String name, String backupId) {
        VolumeBackups b = configured();
        find(b, user, name, backupId);
        translate(() -> {
            b.delete(user.id(), name, backupId);
            return null;
        });
    }

    /**
     * Starts restoring a backup: into volume {@code name} itself (attached nowhere; its contents are
     * replaced) or, with {@code as}, into a new volume of that name. The task's result is the volume's
     * name. Every chunk is checked; a damaged backup leaves the target as it was.
     */
    public Tasks.Task restore(UserRecord user, String name, String backupId, String as) {
        VolumeBackups b = configured();
        BackupInfo info = find(b, user, name, backupId);
        if (as != null) {
            Limits.name(as);
            if (store.volume(user.id(), as).isPresent()) throw DomainException.conflict("volume " + as + " exists already; pick another --as");
        } else {
            // restoring into it: it must exist and be detached (checked again in the task)
            var attached = volumes.attachments(volumes.get(user, name));
            if (!attached.isEmpty()) {
                throw DomainException.conflict("volume " + name + " is attached to sandbox " + attached.getFirst().sandboxName()
                        + "; destroy that sandbox first, or restore into a new volume with --as NAME");
            }
        }
        return tasks.start(user.id(), "restore of backup " + backupId + " of volume " + name, task -> {
            task.phase("restoring");
            task.parts(new long[] {info.sizeBytes()});
            VolumeService.FileWriter writer = target -> translate(() -> {
                b.restore(user.id(), name, backupId, target, bytes -> task.progress(0, bytes));
                return null;
            });
            VolumeRecord v = as != null
                    ? volumes.createFrom(user, as, info.sizeBytes(), "restore of " + name + " backup " + backupId, writer)
                    : volumes.replaceContents(user, name, info.sizeBytes(), writer);
            return v.name();
        });
    }

    private BackupInfo find(VolumeBackups b, UserRecord user, String name, String backupId) {
        Limits.name(name);
        if (backupId == null || !backupId.matches("[0-9A-Za-z-]{1,64}")) {
            throw DomainException.invalid("bad backup id '" + Limits.printable(String.valueOf(backupId)) + "'; see bhatti volume backup-list " + name);
        }
        return translate(() -> b.find(user.id(), name, backupId)).orElseThrow(() -> DomainException.notFound(
                "no backup " + backupId + " of volume " + name + "; see bhatti volume backup-list " + name));
    }

    private VolumeBackups configured() {
        if (backups == null) {
            throw DomainException.unavailable("volume backups are not configured on this server: add a backup section "
                    + "(endpoint, bucket, credentials) to config.yaml; see docs/volumes.md");
        }
        return backups;
    }

    private interface Call<T> { T run(); }

    /** The store's refusals as domain errors: what failed, and where. */
    private static <T> T translate(Call<T> call) {
        try {
            return call.run();
        } catch (BackupException e) {
            throw switch (e.kind()) {
                case NOT_FOUND -> DomainException.notFound(e.getMessage());
                case UNAVAILABLE -> DomainException.unavailable(e.getMessage());
                case CORRUPT -> DomainException.failed("the backup is damaged: " + e.getMessage() + "; nothing was changed");
                case FAILED -> DomainException.failed(e.getMessage());
            };
        }
    }
}

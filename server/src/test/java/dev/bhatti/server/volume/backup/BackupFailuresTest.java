package dev.bhatti.server.volume.backup;

import dev.bhatti.testkit.LocalS3;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static dev.bhatti.server.volume.backup.TestVolumes.sha256;
import static dev.bhatti.server.volume.backup.TestVolumes.sparse;
import static dev.bhatti.server.volume.backup.TestVolumes.writeRandom;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What a damaged store, an unreachable one, a refusing one and another key do to backups and restores. */
class BackupFailuresTest {

    static final int MiB = 1 << 20;

    @TempDir static Path storeDir;
    @TempDir static Path dataDir;
    @TempDir Path dir;

    static LocalS3 s3;
    static TestStore store;
    static VolumeBackups backups;

    @BeforeAll
    static void start() throws Exception {
        s3 = LocalS3.start(storeDir);
        store = new TestStore(s3);
        var config = store.config();
        backups = new VolumeBackups(config, TestStore.credentials(config), BackupKey.open(dataDir));
    }

    @AfterAll
    static void stop() throws Exception {
        backups.close();
        store.close();
        s3.close();
    }

    /** A volume of random bytes and its backup; the target holds other, older contents. */
    private BackupInfo backedUp(String user, Path volume, Path target) throws Exception {
        sparse(volume, 8L * MiB);
        writeRandom(volume, 0, 8 * MiB, new SplittableRandom(user.hashCode()));
        Files.writeString(target, "the volume as it was before the restore");
        return backups.backup(user, "vol", volume, x -> {});
    }

    @Test
    void aDamagedChunkFailsTheRestoreAndLeavesTheTargetAlone() throws Exception {
        Path target = dir.resolve("target.ext4");
        BackupInfo info = backedUp("usr_damaged", dir.resolve("v.ext4"), target);
        String chunk = store.chunkKeys("usr_damaged").get(3);
        byte[] sealed = store.get(chunk);
        sealed[sealed.length / 2] ^= 1;
        store.put(chunk, sealed);

        assertThatThrownBy(() -> backups.restore("usr_damaged", "vol", info.id(), target, x -> {}))
                .isInstanceOfSatisfying(BackupException.class, e -> assertThat(e.kind()).isEqualTo(BackupException.Kind.CORRUPT))
                .hasMessageContaining("backup " + info.id() + " is damaged").hasMessageContaining(chunk.substring(chunk.lastIndexOf('/') + 1));

        assertThat(target).hasContent("the volume as it was before the restore");
        assertThat(dir.resolve("target.ext4.restore-tmp")).doesNotExist();
    }

    @Test
    void aChunkReplacedByAnotherValidOneIsCaughtByItsId() throws Exception {
        Path target = dir.resolve("target.ext4");
        BackupInfo info = backedUp("usr_swapped", dir.resolve("v.ext4"), target);
        var chunks = store.chunkKeys("usr_swapped");
        // both decrypt fine, but the plaintext's HMAC no longer matches the name
        store.put(chunks.get(0), store.get(chunks.get(1)));

        assertThatThrownBy(() -> backups.restore("usr_swapped", "vol", info.id(), target, x -> {}))
                .isInstanceOfSatisfying(BackupException.class, e -> assertThat(e.kind()).isEqualTo(BackupException.Kind.CORRUPT))
                .hasMessageContaining("does not match its id");
        assertThat(target).hasContent("the volume as it was before the restore");
        assertThat(dir.resolve("target.ext4.restore-tmp")).doesNotExist();
    }

    @Test
    void aMissingChunkFailsTheRestoreAndSaysSo() throws Exception {
        Path target = dir.resolve("target.ext4");
        BackupInfo info = backedUp("usr_missing", dir.resolve("v.ext4"), target);
        store.delete(store.chunkKeys("usr_missing").getLast());

        assertThatThrownBy(() -> backups.restore("usr_missing", "vol", info.id(), target, x -> {}))
                .isInstanceOfSatisfying(BackupException.class, e -> assertThat(e.kind()).isEqualTo(BackupException.Kind.CORRUPT))
                .hasMessageContaining("missing from the store");
        assertThat(target).hasContent("the volume as it was before the restore");
        assertThat(dir.resolve("target.ext4.restore-tmp")).doesNotExist();
    }

    @Test
    void aStoreThatCannotBeReachedIsUnavailableAndNothingIsListed() throws Exception {
        int closedPort;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        var config = store.configFor("http://127.0.0.1:" + closedPort, s3.accessKey(), s3.secretKey());
        Path volume = sparse(dir.resolve("v.ext4"), 2L * MiB);
        writeRandom(volume, 0, MiB, new SplittableRandom(1));
        try (var down = new VolumeBackups(config, TestStore.credentials(config), BackupKey.open(dataDir))) {
            assertThatThrownBy(() -> down.backup("usr_down", "vol", volume, x -> {}))
                    .isInstanceOfSatisfying(BackupException.class, e -> assertThat(e.kind()).isEqualTo(BackupException.Kind.UNAVAILABLE))
                    .hasMessageContaining("cannot reach the S3 store at http://127.0.0.1:" + closedPort + " (bucket " + s3.bucket() + ")")
                    .hasMessageContaining("Connection refused");
            assertThatThrownBy(down::check).isInstanceOf(BackupException.class).hasMessageContaining("cannot reach");
        }
        assertThat(backups.list("usr_down", "vol")).isEmpty();
        assertThat(store.keys("bhatti/users/usr_down/")).isEmpty();
    }

    @Test
    void wrongCredentialsAreUnavailableAndSayTheStoreRefused() throws Exception {
        var config = store.configFor(s3.endpoint().toString(), s3.accessKey(), "not-the-secret");
        Path volume = sparse(dir.resolve("v.ext4"), 2L * MiB);
        writeRandom(volume, 0, MiB, new SplittableRandom(2));
        try (var refused = new VolumeBackups(config, TestStore.credentials(config), BackupKey.open(dataDir))) {
            assertThatThrownBy(() -> refused.backup("usr_refused", "vol", volume, x -> {}))
                    .isInstanceOfSatisfying(BackupException.class, e -> assertThat(e.kind()).isEqualTo(BackupException.Kind.UNAVAILABLE))
                    .hasMessageContaining("the S3 store at " + s3.endpoint() + " (bucket " + s3.bucket() + ") refused to")
                    .hasMessageContaining("HTTP 403")
                    .hasMessageContaining("check backup.access_key and backup.secret_key");
            assertThatThrownBy(refused::check).isInstanceOf(BackupException.class).hasMessageContaining("refused");
        }
        assertThat(store.keys("bhatti/users/usr_refused/")).isEmpty();
    }

    @Test
    void aMissingBucketSaysSo() throws Exception {
        var yaml = store.config();
        var config = new BackupConfig(yaml.endpoint(), "no-such-bucket", yaml.region(), yaml.accessKey(), yaml.secretKey(), yaml.prefix(),
                yaml.chunkSize(), yaml.schedule());
        try (var nowhere = new VolumeBackups(config, TestStore.credentials(config), BackupKey.open(dataDir))) {
            assertThatThrownBy(() -> nowhere.list("usr_x", "vol"))
                    .isInstanceOfSatisfying(BackupException.class, e -> assertThat(e.kind()).isEqualTo(BackupException.Kind.UNAVAILABLE))
                    .hasMessageContaining("(bucket no-such-bucket)").hasMessageContaining("NoSuchBucket");
        }
    }

    @Test
    void anotherKeyCannotRestoreAndSaysWhy() throws Exception {
        Path target = dir.resolve("target.ext4");
        BackupInfo info = backedUp("usr_rekeyed", dir.resolve("v.ext4"), target);
        Path otherData = Files.createDirectory(dir.resolve("other-data"));
        var config = store.config();
        try (var rekeyed = new VolumeBackups(config, TestStore.credentials(config), BackupKey.open(otherData))) {
            assertThat(rekeyed.list("usr_rekeyed", "vol")).extracting(BackupInfo::id).containsExactly(info.id());
            assertThatThrownBy(() -> rekeyed.restore("usr_rekeyed", "vol", info.id(), target, x -> {}))
                    .isInstanceOfSatisfying(BackupException.class, e -> assertThat(e.kind()).isEqualTo(BackupException.Kind.CORRUPT))
                    .hasMessageContaining("cannot be decrypted with backup.key");
            assertThatThrownBy(() -> rekeyed.collectGarbage("usr_rekeyed")).isInstanceOf(BackupException.class);
        }
        assertThat(store.chunkKeys("usr_rekeyed")).as("an unreadable manifest stops garbage collection").hasSize(8);
        assertThat(target).hasContent("the volume as it was before the restore");
    }

    @Test
    void aLocalFailureMidwayRemovesTheTemporaryFileAndLeavesTheTargetAlone() throws Exception {
        Path target = dir.resolve("target.ext4");
        BackupInfo info = backedUp("usr_local", dir.resolve("v.ext4"), target);
        Path tmp = dir.resolve("target.ext4.restore-tmp");
        var seenMidway = new java.util.concurrent.atomic.AtomicBoolean();

        // what a full disk does to a write, at the third chunk
        assertThatThrownBy(() -> backups.restore("usr_local", "vol", info.id(), target, done -> {
            if (done < 3L * MiB) return;
            seenMidway.set(Files.exists(tmp));
            throw new java.io.UncheckedIOException(new java.io.IOException("No space left on device"));
        })).isInstanceOfSatisfying(BackupException.class, e -> assertThat(e.kind()).isEqualTo(BackupException.Kind.FAILED))
                .hasMessageContaining("No space left on device").hasMessageContaining(target + " is untouched");

        assertThat(seenMidway).as("the restore was writing its temporary file").isTrue();
        assertThat(tmp).doesNotExist();
        assertThat(target).hasContent("the volume as it was before the restore");
        backups.restore("usr_local", "vol", info.id(), target, x -> {});
        assertThat(sha256(target)).isEqualTo(sha256(dir.resolve("v.ext4")));
    }
}

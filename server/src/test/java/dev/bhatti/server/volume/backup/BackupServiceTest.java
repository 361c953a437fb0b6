package dev.bhatti.server.volume.backup;

import dev.bhatti.testkit.LocalS3;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

import static dev.bhatti.server.volume.backup.TestVolumes.allocated;
import static dev.bhatti.server.volume.backup.TestVolumes.sha256;
import static dev.bhatti.server.volume.backup.TestVolumes.sparse;
import static dev.bhatti.server.volume.backup.TestVolumes.writeRandom;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** VolumeBackups against a real S3 server (s3proxy on loopback): what is stored, sent, restored and collected. */
class BackupServiceTest {

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

    @Test
    void aSparseVolumeRoundTripsWithItsHolesStillHoles() throws Exception {
        var random = new SplittableRandom(1);
        Path volume = sparse(dir.resolve("data.ext4"), 64L * MiB);
        long written = 0;
        for (int i = 0; i < 12; i++) {
            int len = 4096 + random.nextInt(2 * MiB);
            writeRandom(volume, random.nextLong(64L * MiB - len), len, random);
            written += len;
        }
        var progress = new AtomicLong();

        BackupInfo info = backups.backup("usr_round", "data", volume, progress::set);

        assertThat(info.sizeBytes()).isEqualTo(64L * MiB);
        assertThat(info.chunkCount()).isEqualTo(64);
        assertThat(progress.get()).isEqualTo(64L * MiB);
        assertThat(info.uploadedChunks()).as("holes are not uploaded").isLessThan(40).isEqualTo(store.chunkKeys("usr_round").size());
        assertThat(info.uploadedBytes()).isLessThan(written + 24L * MiB);
        assertThat(backups.list("usr_round", "data")).containsExactly(info);
        assertThat(backups.find("usr_round", "data", info.id())).contains(info);
        for (String k : store.keys("bhatti/users/usr_round/")) {
            assertThat(k).matches("bhatti/users/usr_round/(chunks/[0-9a-f]{64}|volumes/data/backups/" + info.id() + "\\.manifest)");
            assertThat(new String(store.get(k), 0, 21)).as("every object is an age file").isEqualTo("age-encryption.org/v1");
        }

        Path restored = dir.resolve("restored.ext4");
        var restoreProgress = new AtomicLong();
        backups.restore("usr_round", "data", info.id(), restored, restoreProgress::set);

        assertThat(sha256(restored)).isEqualTo(sha256(volume));
        assertThat(restoreProgress.get()).isEqualTo(64L * MiB);
        assertThat(allocated(restored)).as("holes stay holes").isLessThanOrEqualTo(allocated(volume) + 24L * MiB).isLessThan(48L * MiB);
        assertThat(dir.resolve("restored.ext4.restore-tmp")).doesNotExist();
    }

    @Test
    void aSecondBackupSendsAboutWhatChangedContiguous() throws Exception {
        var random = new SplittableRandom(2);
        Path volume = sparse(dir.resolve("v.ext4"), 64L * MiB);
        writeRandom(volume, 0, 64 * MiB, random);
        BackupInfo first = backups.backup("usr_incr", "v", volume, b -> {});
        assertThat(first.uploadedChunks()).isEqualTo(64);

        int changed = 64 * MiB / 100;
        long offset = 10L * MiB + 12345;
        writeRandom(volume, offset, changed, random);
        BackupInfo second = backups.backup("usr_incr", "v", volume, b -> {});

        long touched = (offset + changed - 1) / MiB - offset / MiB + 1;
        assertThat(second.uploadedChunks()).isEqualTo((int) touched);
        assertThat(second.uploadedBytes()).isLessThanOrEqualTo(2L * changed + MiB);
        assertThat(backups.list("usr_incr", "v")).extracting(BackupInfo::id).containsExactly(second.id(), first.id());
        Path restored = dir.resolve("r.ext4");
        backups.restore("usr_incr", "v", second.id(), restored, b -> {});
        assertThat(sha256(restored)).isEqualTo(sha256(volume));
    }

    @Test
    void aSecondBackupSendsAboutWhatChangedScattered() throws Exception {
        // scattered 4K-block writes each dirty a whole chunk: the smallest chunk keeps that near the change itself
        var config = store.config("chunk_size: 64K");
        int chunk = 64 << 10;
        try (var small = new VolumeBackups(config, TestStore.credentials(config), BackupKey.open(dataDir))) {
            var random = new SplittableRandom(3);
            Path volume = sparse(dir.resolve("s.ext4"), 64L * MiB);
            writeRandom(volume, 0, 64 * MiB, random);
            small.backup("usr_scatter", "s", volume, b -> {});

            var chunks = new TreeSet<Long>();
            int changed = 0;
            while (changed < 64 * MiB / 100) {
                int len = 32 << 10; // 4K-aligned, within one chunk
                long offset = random.nextLong(64L * MiB / chunk) * chunk + 4096L * random.nextInt(8);
                writeRandom(volume, offset, len, random);
                chunks.add(offset / chunk);
                changed += len;
            }
            BackupInfo second = small.backup("usr_scatter", "s", volume, b -> {});

            assertThat(second.uploadedChunks()).as("exactly the chunks written to").isEqualTo(chunks.size());
            assertThat(second.uploadedBytes()).isLessThanOrEqualTo(2L * changed + chunk);
            Path restored = dir.resolve("sr.ext4");
            small.restore("usr_scatter", "s", second.id(), restored, b -> {});
            assertThat(sha256(restored)).isEqualTo(sha256(volume));
        }
    }

    @Test
    void twoVolumesOfAUserShareTheirChunks() throws Exception {
        Path a = sparse(dir.resolve("a.ext4"), 16L * MiB);
        writeRandom(a, 0, 16 * MiB, new SplittableRandom(4));
        Path b = dir.resolve("b.ext4");
        Files.copy(a, b);
        writeRandom(b, 3L * MiB, 100, new SplittableRandom(5));

        BackupInfo first = backups.backup("usr_dedup", "a", a, x -> {});
        BackupInfo second = backups.backup("usr_dedup", "b", b, x -> {});

        assertThat(first.uploadedChunks()).isEqualTo(16);
        assertThat(second.uploadedChunks()).as("only the chunk that differs").isEqualTo(1);
        assertThat(store.chunkKeys("usr_dedup")).hasSize(17);
        assertThat(backups.list("usr_dedup", "a")).extracting(BackupInfo::id).containsExactly(first.id());
        // another user shares nothing: chunk ids are per key, objects per user
        BackupInfo other = backups.backup("usr_other", "a", a, x -> {});
        assertThat(other.uploadedChunks()).isEqualTo(16);
    }

    @Test
    void anInterruptedBackupIsNotListedAndTheNextCollectionRemovesItsChunks() throws Exception {
        Path keep = sparse(dir.resolve("keep.ext4"), 4L * MiB);
        writeRandom(keep, 0, 4 * MiB, new SplittableRandom(6));
        BackupInfo kept = backups.backup("usr_abort", "keep", keep, x -> {});
        Path big = sparse(dir.resolve("big.ext4"), 32L * MiB);
        writeRandom(big, 0, 32 * MiB, new SplittableRandom(7));

        assertThatThrownBy(() -> backups.backup("usr_abort", "big", big, done -> {
            if (done >= 12L * MiB) throw new IllegalStateException("cancelled by the caller");
        })).isInstanceOfSatisfying(BackupException.class, e -> {
            assertThat(e.kind()).isEqualTo(BackupException.Kind.FAILED);
            assertThat(e).hasMessageContaining("cancelled by the caller");
        });

        assertThat(backups.list("usr_abort", "big")).isEmpty();
        assertThat(store.chunkKeys("usr_abort")).as("orphans of the stopped backup").hasSizeGreaterThan(4);
        Path other = sparse(dir.resolve("other.ext4"), 2L * MiB);
        writeRandom(other, 0, 2 * MiB, new SplittableRandom(8));
        BackupInfo doomed = backups.backup("usr_abort", "other", other, x -> {});
        backups.delete("usr_abort", "other", doomed.id());

        assertThat(store.chunkKeys("usr_abort")).as("only the chunks of the backup still there").hasSize(4);
        Path restored = dir.resolve("keep-restored.ext4");
        backups.restore("usr_abort", "keep", kept.id(), restored, x -> {});
        assertThat(sha256(restored)).isEqualTo(sha256(keep));
    }

    @Test
    void retentionDeletesTheOldestAndKeepsChunksNewerBackupsStillUse() throws Exception {
        var random = new SplittableRandom(9);
        Path volume = sparse(dir.resolve("ret.ext4"), 8L * MiB);
        writeRandom(volume, 0, 8 * MiB, random);
        var ids = new java.util.ArrayList<String>();
        var config = store.config();
        // ids sort by the second they were made in: a clock a minute on at each backup
        var clock = new java.time.Clock() {
            java.time.Instant now = java.time.Instant.parse("2026-12-06T11:05:12Z");
            public java.time.ZoneId getZone() { return java.time.ZoneOffset.UTC; }
            public java.time.Clock withZone(java.time.ZoneId zone) { return this; }
            public synchronized java.time.Instant instant() { return now = now.plusSeconds(60); }
        };
        try (var stepping = new VolumeBackups(config, TestStore.credentials(config), BackupKey.open(dataDir), 4, clock)) {
            for (int i = 0; i < 3; i++) {
                if (i > 0) writeRandom(volume, (long) i * MiB, 1000, random);
                ids.add(stepping.backup("usr_ret", "ret", volume, x -> {}).id());
            }
        }
        assertThat(ids.getFirst()).startsWith("20261206T110612Z-");
        String newest = ids.getLast();

        List<String> deleted = backups.retain("usr_ret", "ret", 1);

        assertThat(deleted).containsExactlyInAnyOrder(ids.get(0), ids.get(1));
        assertThat(backups.list("usr_ret", "ret")).extracting(BackupInfo::id).containsExactly(newest);
        assertThat(store.chunkKeys("usr_ret")).as("the newest backup's 8 chunks, nothing else").hasSize(8);
        Path restored = dir.resolve("ret-restored.ext4");
        backups.restore("usr_ret", "ret", newest, restored, x -> {});
        assertThat(sha256(restored)).isEqualTo(sha256(volume));
        assertThat(backups.retain("usr_ret", "ret", 1)).isEmpty();
    }

    @Test
    void namesFromOutsideAreCheckedBeforeTheyBecomeKeys() throws Exception {
        Path volume = sparse(dir.resolve("n.ext4"), MiB);
        for (String bad : List.of("../x", "a/b", "", ".hidden", "x".repeat(64))) {
            assertThatThrownBy(() -> backups.backup("usr_names", bad, volume, x -> {}))
                    .isInstanceOfSatisfying(BackupException.class, e -> assertThat(e.kind()).isEqualTo(BackupException.Kind.NOT_FOUND));
        }
        for (String bad : List.of("../../etc", "20261206T110512Z-3fa9/../x", "latest", "20261206T110512Z-3FA9")) {
            assertThatThrownBy(() -> backups.restore("usr_names", "n", bad, dir.resolve("t"), x -> {}))
                    .isInstanceOfSatisfying(BackupException.class, e -> assertThat(e.kind()).isEqualTo(BackupException.Kind.NOT_FOUND));
            assertThat(backups.find("usr_names", "n", bad)).isEmpty();
        }
        assertThatThrownBy(() -> backups.delete("usr_names", "n", "20261206T110512Z-3fa9"))
                .isInstanceOfSatisfying(BackupException.class, e -> assertThat(e.kind()).isEqualTo(BackupException.Kind.NOT_FOUND))
                .hasMessageContaining("has no backup 20261206T110512Z-3fa9");
        assertThatThrownBy(() -> backups.restore("usr_names", "n", "20261206T110512Z-3fa9", dir.resolve("t"), x -> {}))
                .isInstanceOfSatisfying(BackupException.class, e -> assertThat(e.kind()).isEqualTo(BackupException.Kind.NOT_FOUND));
        assertThat(dir.resolve("t")).doesNotExist();
        assertThat(new HashSet<>(store.keys("bhatti/"))).noneMatch(k -> k.contains(".."));
    }

    @Test
    void anEmptyFileIsABackupToo() throws Exception {
        Path empty = Files.createFile(dir.resolve("empty.ext4"));
        BackupInfo info = backups.backup("usr_empty", "e", empty, x -> {});
        assertThat(info.chunkCount()).isZero();
        Path restored = dir.resolve("e2.ext4");
        backups.restore("usr_empty", "e", info.id(), restored, x -> {});
        assertThat(restored).isEmptyFile();
    }
}

package dev.bhatti.server.volume.backup;

import dev.bhatti.testkit.LocalS3;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.SplittableRandom;

import static dev.bhatti.server.volume.backup.TestVolumes.sha256;
import static dev.bhatti.server.volume.backup.TestVolumes.sparse;
import static dev.bhatti.server.volume.backup.TestVolumes.writeRandom;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Numbers, not a check: a volume of {@code backup.measure.mb} MB (default 1024) of random bytes in a sparse
 * file, backed up, changed by 1 %, backed up again, restored; against s3proxy on loopback, so the store's own
 * CPU is on this machine too. Run with {@code -Dtest=BackupMeasurementTest -Dbackup.measure=true}.
 */
@EnabledIfSystemProperty(named = "backup.measure", matches = "true")
class BackupMeasurementTest {

    static final int MiB = 1 << 20;

    @TempDir Path dir;

    @Test
    void measure() throws Exception {
        int mb = Integer.getInteger("backup.measure.mb", 1024);
        int parallelism = Integer.getInteger("backup.measure.parallelism", VolumeBackups.DEFAULT_PARALLELISM);
        String chunk = System.getProperty("backup.measure.chunk", "1M");
        long size = (long) mb * MiB;
        var random = new SplittableRandom(42);
        Path volume = sparse(dir.resolve("vol.ext4"), size);
        for (long off = 0; off < size; off += 64 * MiB) writeRandom(volume, off, (int) Math.min(64 * MiB, size - off), random);
        try (var s3 = LocalS3.start(dir.resolve("s3")); var store = new TestStore(s3)) {
            var config = store.config("chunk_size: " + chunk);
            try (var backups = new VolumeBackups(config, TestStore.credentials(config), BackupKey.open(dir), parallelism, java.time.Clock.systemUTC())) {
                backups.backup("usr_warm", "w", sparse(dir.resolve("warm.ext4"), 16L * MiB), x -> {}); // JIT, connections

                BackupInfo first = backups.backup("usr_m", "vol", volume, x -> {});
                report("first backup", first, size);

                long changed = size / 100; // 1 %: ten runs of 1/1000 each at random places
                for (int i = 0; i < 10; i++) writeRandom(volume, random.nextLong(size - changed / 10), (int) (changed / 10), random);
                BackupInfo second = backups.backup("usr_m", "vol", volume, x -> {});
                report("after 1% changed (" + changed + " bytes in 10 runs)", second, size);

                long t = System.nanoTime();
                Path restored = dir.resolve("restored.ext4");
                backups.restore("usr_m", "vol", second.id(), restored, x -> {});
                long restoreMillis = (System.nanoTime() - t) / 1_000_000;
                System.out.printf("MEASURE restore: %d ms (%.0f MB/s)%n", restoreMillis, mb * 1000.0 / restoreMillis);
                assertThat(sha256(restored)).isEqualTo(sha256(volume));
            }
        }
    }

    private static void report(String what, BackupInfo b, long size) {
        System.out.printf("MEASURE %s: %d ms (%.0f MB/s), %d of %d chunks uploaded, %d bytes sent%n", what, b.millis(),
                size / (double) (1 << 20) * 1000 / Math.max(1, b.millis()), b.uploadedChunks(), b.chunkCount(), b.uploadedBytes());
    }
}

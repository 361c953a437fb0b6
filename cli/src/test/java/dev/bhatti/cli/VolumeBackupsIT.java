package dev.bhatti.cli;

import dev.bhatti.testkit.LocalS3;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Volume backups to a real S3-compatible server (s3proxy on loopback, files on disk): the second backup
 * of a volume sends about what changed, every object in the store is ciphertext, a restore gives the same
 * files, a damaged chunk fails the restore and changes nothing, an unreachable store is said plainly, and
 * a daemon killed mid-backup leaves no half backup listed. Timings and bytes are printed, never asserted
 * beyond what incremental means.
 */
@ExtendWith(DaemonLogOnFailure.class)
class VolumeBackupsIT {

    static LocalS3 s3;
    static int s3Port;

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-backups-")
            .before(dir -> {
                s3 = LocalS3.start(dir.resolve("s3"));
                s3Port = s3.port();
            })
            .config(dir -> config(s3.accessKey(), s3.secretKey()));

    static String config(String accessKey, String secretKey) {
        return "backup:\n  endpoint: " + s3.endpoint() + "\n  bucket: " + s3.bucket() + "\n  region: " + s3.region()
                + "\n  access_key: " + accessKey + "\n  secret_key: " + secretKey + "\n";
    }

    @AfterAll
    static void stopS3() throws Exception {
        if (s3 != null) s3.close();
    }

    static BhattiProcess.Result ok(String... args) throws Exception { return bhatti.ok(args); }

    static BhattiProcess.Result refused(String... args) throws Exception { return bhatti.refused(args); }

    static JsonNode json(String s) { return ApiClient.JSON.readTree(s); }

    static String exec(String sandbox, String... cmd) throws Exception { return bhatti.exec(sandbox, cmd); }

    static JsonNode backup(String volume) throws Exception {
        long t0 = System.nanoTime();
        String id = json(ok("volume", "backup", volume, "--json").stdout()).path("result").asString();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        for (JsonNode b : json(ok("volume", "backup-list", volume, "--json").stdout())) {
            if (b.path("id").asString().equals(id)) {
                System.out.printf("[backups] backup %s of %s: %d ms through the CLI, %d of %d chunks new, %.1f MB uploaded%n", id, volume, ms,
                        b.path("uploaded_chunks").asInt(), b.path("chunks").asInt(), b.path("uploaded_bytes").asLong() / 1048576.0);
                return b;
            }
        }
        throw new AssertionError("backup " + id + " is not listed");
    }

    static List<Path> objects(String part) throws Exception {
        try (Stream<Path> files = Files.walk(s3.dir())) {
            return files.filter(Files::isRegularFile).filter(p -> p.toString().contains(part)).sorted(Comparator.comparing(Path::toString)).toList();
        }
    }

    @Test
    void theSecondBackupSendsWhatChangedAndARestoreGivesTheSameFiles() throws Exception {
        ok("volume", "create", "--name", "big", "--size", "1G");
        ok("create", "--name", "w", "--volume", "big:/data");
        exec("w", "sh", "-c", "head -c 300000000 /dev/urandom > /data/blob && echo marker-text-in-the-clear > /data/note && sync");
        JsonNode first = backup("big");
        assertThat(first.path("uploaded_bytes").asLong()).as("the data written, once").isGreaterThan(300_000_000L).isLessThan(400_000_000L);

        // change 1 % of the volume (10 MB inside the file), still attached and hot
        exec("w", "sh", "-c", "dd if=/dev/urandom of=/data/blob bs=1M count=10 seek=100 conv=notrunc 2>/dev/null && sync && sha256sum /data/blob /data/note");
        String sums = exec("w", "sh", "-c", "cd /data && sha256sum blob note");
        JsonNode second = backup("big");
        assertThat(second.path("uploaded_bytes").asLong()).as("about the 10 MB changed, plus file-system metadata")
                .isGreaterThan(10L << 20).isLessThan(40L << 20);

        // what the store holds is ciphertext: no object shows the file's text
        for (Path o : objects("/users/")) {
            assertThat(new String(Files.readAllBytes(o), java.nio.charset.StandardCharsets.ISO_8859_1)).as(o.toString())
                    .doesNotContain("marker-text-in-the-clear");
        }
        assertThat(ok("volume", "backup-list", "big").stdout()).contains(first.path("id").asString()).contains(second.path("id").asString());

        long t0 = System.nanoTime();
        ok("volume", "restore", "big", "--backup-id", second.path("id").asString(), "--as", "big-restored");
        System.out.println("[backups] restore of a 1 GB volume (300 MB written) into a new volume: " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        ok("destroy", "w", "-y");
        ok("create", "--name", "r", "--volume", "big:/a:ro", "--volume", "big-restored:/b:ro");
        assertThat(exec("r", "sh", "-c", "cd /b && sha256sum blob note")).isEqualTo(sums);
        assertThat(exec("r", "sh", "-c", "cd /a && sha256sum blob note")).isEqualTo(sums);

        // restoring the first backup into the volume itself: refused while attached, then done
        assertThat(refused("volume", "restore", "big", "--backup-id", first.path("id").asString()).stderr()).contains("attached to sandbox r");
        ok("destroy", "r", "-y");
        ok("volume", "restore", "big", "--backup-id", first.path("id").asString());
        ok("create", "--name", "r2", "--volume", "big:/a");
        assertThat(exec("r2", "sh", "-c", "cd /a && sha256sum blob note")).as("the first backup's contents").isNotEqualTo(sums);
        ok("destroy", "r2", "-y");

        // a deleted backup goes; the chunks the other one still uses stay
        ok("volume", "backup-delete", "big", first.path("id").asString(), "-y");
        assertThat(ok("volume", "backup-list", "big").stdout()).doesNotContain(first.path("id").asString());
        ok("volume", "restore", "big", "--backup-id", second.path("id").asString(), "--as", "big-again");
        ok("create", "--name", "r3", "--volume", "big-again:/a:ro");
        assertThat(exec("r3", "sh", "-c", "cd /a && sha256sum blob note")).isEqualTo(sums);
        ok("destroy", "r3", "-y");
        for (String v : List.of("big", "big-restored", "big-again")) ok("volume", "delete", v, "-y");
    }

    @Test
    void aDamagedChunkFailsTheRestoreAndChangesNothing() throws Exception {
        ok("volume", "create", "--name", "fragile", "--size", "64M");
        ok("create", "--name", "f", "--volume", "fragile:/data");
        exec("f", "sh", "-c", "head -c 5000000 /dev/urandom > /data/x && sync");
        ok("destroy", "f", "-y");
        var earlier = Set.copyOf(objects("/chunks/"));
        String id = backup("fragile").path("id").asString();
        // the chunks this backup sent (others' chunks stay whole: other tests' backups may share them)
        List<Path> chunks = objects("/chunks/").stream().filter(c -> !earlier.contains(c)).toList();
        assertThat(chunks).isNotEmpty();
        for (Path c : chunks) { // one flipped byte in each chunk: age's authentication must catch it
            byte[] b = Files.readAllBytes(c);
            b[b.length / 2] ^= 0x5a;
            Files.write(c, b, StandardOpenOption.TRUNCATE_EXISTING);
        }
        assertThat(refused("volume", "restore", "fragile", "--backup-id", id, "--as", "fragile-copy").stderr()).contains("damaged");
        assertThat(ok("volume", "list").stdout()).doesNotContain("fragile-copy");
        long before = json(ok("volume", "inspect", "fragile", "--json").stdout()).path("used_bytes").asLong();
        assertThat(refused("volume", "restore", "fragile", "--backup-id", id).stderr()).contains("damaged");
        assertThat(json(ok("volume", "inspect", "fragile", "--json").stdout()).path("used_bytes").asLong()).isEqualTo(before);
        ok("create", "--name", "f2", "--volume", "fragile:/data");
        assertThat(exec("f2", "sh", "-c", "wc -c < /data/x")).isEqualTo("5000000\n");
        ok("destroy", "f2", "-y");
        ok("volume", "backup-delete", "fragile", id, "-y");
        ok("volume", "delete", "fragile", "-y");
    }

    @Test
    void anUnreachableStoreIsSaidAndAKilledBackupIsNeverListed() throws Exception {
        ok("volume", "create", "--name", "cut", "--size", "512M");
        ok("create", "--name", "c", "--volume", "cut:/data");
        exec("c", "sh", "-c", "head -c 200000000 /dev/urandom > /data/blob && sync");
        ok("destroy", "c", "-y");
        String kept = backup("cut").path("id").asString();

        // the daemon killed in the middle of a backup of new data
        ok("create", "--name", "c2", "--volume", "cut:/data");
        exec("c2", "sh", "-c", "head -c 200000000 /dev/urandom > /data/blob2 && sync");
        ok("destroy", "c2", "-y");
        JsonNode task = json(ok("volume", "backup", "cut", "--detach", "--json").stdout());
        String path = "/tasks/" + task.path("id").asString();
        while (json(bhatti.call("GET", path, null).body()).path("bytes_done").asLong() < (20L << 20)) {
            Thread.sleep(100); // polling the task's progress
        }
        bhatti.daemon().kill();
        bhatti.daemon().start();
        var listed = json(ok("volume", "backup-list", "cut", "--json").stdout());
        assertThat(listed).as("only the complete backup").singleElement().satisfies(b -> assertThat(b.path("id").asString()).isEqualTo(kept));

        // the store gone: a clear error, nothing listed half
        s3.close();
        var down = refused("volume", "backup", "cut");
        assertThat(down.stderr()).contains("127.0.0.1:" + s3Port);
        assertThat(refused("volume", "backup-list", "cut").stderr()).contains("503");
        s3 = LocalS3.start(bhatti.dataDir().resolve("s3"), s3Port);
        assertThat(json(ok("volume", "backup-list", "cut", "--json").stdout()).size()).isEqualTo(listed.size());

        // credentials from the admin's secrets
        var secret = BhattiProcess.cliWithInput(bhatti.daemon().env, Files.writeString(bhatti.dataDir().resolve("s3-secret.txt"), s3.secretKey()),
                "secret", "set", "S3_SECRET");
        assertThat(secret.exit()).as(secret.toString()).isZero();
        Files.writeString(bhatti.dataDir().resolve("config.yaml"), config(s3.accessKey(), "secret:S3_SECRET"));
        bhatti.daemon().stop();
        bhatti.daemon().start();
        String viaSecret = backup("cut").path("id").asString();

        // and a schedule: every minute, keeping one backup (its retention may remove the others at any moment)
        Files.writeString(bhatti.dataDir().resolve("config.yaml"), config(s3.accessKey(), "secret:S3_SECRET")
                + "  schedule:\n    - {volume: cut, user: admin, cron: \"* * * * *\", retention: 1}\n");
        bhatti.daemon().stop();
        bhatti.daemon().start();

        // the scheduled one comes within a minute and its retention leaves it alone
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(150);
        JsonNode after = json(ok("volume", "backup-list", "cut", "--json").stdout());
        while (!(after.size() == 1 && !after.get(0).path("id").asString().equals(viaSecret))) {
            assertThat(System.nanoTime()).as("a scheduled backup within 150 s; the list: " + after).isLessThan(deadline);
            Thread.sleep(1000); // polling the store's list
            after = json(ok("volume", "backup-list", "cut", "--json").stdout());
        }
        assertThat(after.get(0).path("id").asString()).isGreaterThan(viaSecret);
        ok("volume", "delete", "cut", "-y");
    }

}

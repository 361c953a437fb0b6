package dev.bhatti.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A snapshot that does not fit on the disk: the data directory is a small tmpfs, the guest holds more
 * incompressible memory than it has room for. The stop and the named snapshot fail with the reason,
 * the sandbox stays hot and usable, and no piece of either snapshot is left behind.
 */
@ExtendWith(DaemonLogOnFailure.class)
class DiskFullIT {

    static Path mount;
    static Path dataDir;
    static BhattiProcess.Daemon daemon;

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-full-")
            .dataDirFrom(() -> {
                mount = Files.createTempDirectory(Path.of("/tmp"), "bhatti-full-");
                run("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mount.toString());
                return Files.createDirectory(mount.resolve("data"));
            })
            .after(() -> {
                if (mount == null) return;
                run("umount", "-l", mount.toString());
                Files.deleteIfExists(mount);
            });

    @BeforeAll
    static void setUp() {
        dataDir = bhatti.dataDir();
        daemon = bhatti.daemon();
    }

    static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
    }

    static HttpResponse<String> call(String method, String path, String body) throws Exception {
        return daemon.call(method, path, body);
    }

    static JsonNode json(String s) { return ApiClient.JSON.readTree(s); }

    static BhattiProcess.Result cli(String... args) throws Exception { return BhattiProcess.cli(daemon.env, args); }

    @Test
    void aSnapshotThatDoesNotFitFailsCleanlyAndTheSandboxStaysHot() throws Exception {
        var created = cli("create", "--name", "big", "--memory", "256", "--keep-hot");
        assertThat(created.exit()).as(created.toString()).isZero();
        // 64 MB of random bytes in guest RAM (/tmp is a tmpfs): the snapshot cannot fit in what is left of 48 MB
        var fill = cli("exec", "big", "--", "sh", "-c", "head -c 67108864 /dev/urandom > /tmp/fill && md5sum /tmp/fill > /tmp/fill.md5");
        assertThat(fill.exit()).as(fill.toString()).isZero();
        Path dir = dataDir.resolve("sandboxes").resolve(json(call("GET", "/sandboxes/big", null).body()).path("id").asString());

        var stop = cli("stop", "big");
        assertThat(stop.exit()).isNotZero();
        assertThat(stop.stderr()).as(stop.toString()).containsIgnoringCase("no space left");
        JsonNode after = json(call("GET", "/sandboxes/big", null).body());
        assertThat(after.path("status").asString()).isEqualTo("running");
        assertThat(after.path("thermal").asString()).isEqualTo("hot");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).as("no piece of the snapshot is left").noneMatch(n -> n.startsWith("memory"));
        }
        assertThat(cli("exec", "big", "--", "md5sum", "-c", "/tmp/fill.md5").exit()).as("the guest runs on, memory intact").isZero();

        var named = call("POST", "/sandboxes/big/checkpoint", "{\"name\":\"full\"}");
        assertThat(named.statusCode()).as(named.body()).isEqualTo(500);
        assertThat(named.body()).containsIgnoringCase("no space left");
        assertThat(json(call("GET", "/snapshots", null).body())).as("no snapshot row").isEmpty();
        Path snapshots = dataDir.resolve("snapshots");
        if (Files.exists(snapshots)) {
            try (var files = Files.list(snapshots)) {
                assertThat(files).as("no snapshot files").isEmpty();
            }
        }
        assertThat(json(call("GET", "/sandboxes/big", null).body()).path("thermal").asString()).isEqualTo("hot");
        assertThat(cli("exec", "big", "--", "echo", "still-here").stdout()).isEqualTo("still-here\n");
    }

    /** A volume clone that does not fit: a clear 503 saying the disk is full, and no volume or file of it left. */
    @Test
    void aCloneThatDoesNotFitLeavesNothing() throws Exception {
        var created = cli("volume", "create", "--name", "full-src", "--size", "40M");
        assertThat(created.exit()).as(created.toString()).isZero();
        Path file;
        try (var files = Files.walk(dataDir.resolve("volumes"))) {
            file = files.filter(f -> f.toString().endsWith(".ext4")).findFirst().orElseThrow();
        }
        // 28 MB of written blocks (the contents need not be a file system for a copy): a copy cannot fit in what is left of 48 MB
        run("dd", "if=/dev/urandom", "of=" + file, "bs=1M", "count=28", "seek=4", "conv=notrunc,fsync");
        var clone = cli("volume", "clone", "full-src", "--name", "full-copy");
        assertThat(clone.exit()).isNotZero();
        assertThat(clone.stderr()).as(clone.toString()).contains("disk is full");
        assertThat(cli("volume", "list").stdout()).contains("full-src").doesNotContain("full-copy");
        try (var files = Files.walk(dataDir.resolve("volumes"))) {
            assertThat(files.filter(Files::isRegularFile)).as("only the source's file").containsExactly(file);
        }
        assertThat(cli("volume", "delete", "full-src", "-y").exit()).isZero();
    }
}

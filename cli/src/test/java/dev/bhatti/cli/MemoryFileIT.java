package dev.bhatti.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Sandboxes whose RAM is a file of their own ({@code engine.memory_file: true}) on real VMs: a stop writes
 * the device state alone and syncs the file, a start maps it again; processes, TCP connections and memory
 * come back, across repeated stops (each writes what changed since the last); the file is root's alone;
 * named snapshots carry a copy that clones resume from; destroy leaves nothing. Sandboxes made with the
 * switch off beside them keep streaming their memory.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(DaemonLogOnFailure.class)
class MemoryFileIT {

    static Path dataDir;
    static BhattiProcess.Daemon daemon;

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-memfile-").config("engine:\n  memory_file: true\n");

    @BeforeAll
    static void setUp() {
        dataDir = bhatti.dataDir();
        daemon = bhatti.daemon();
    }

    static HttpResponse<String> call(String method, String path, String body) throws Exception { return daemon.call(method, path, body); }

    static JsonNode json(String s) { return ApiClient.JSON.readTree(s); }

    static BhattiProcess.Result cli(String... args) throws Exception { return BhattiProcess.cli(daemon.env, args); }

    static JsonNode inspect(String name) throws Exception { return json(call("GET", "/sandboxes/" + name, null).body()); }

    static Path sandboxDir(String name) throws Exception { return dataDir.resolve("sandboxes").resolve(inspect(name).path("id").asString()); }

    static long counter(String name) throws Exception {
        var r = cli("exec", name, "--", "cat", "/tmp/n");
        if (r.exit() != 0 || r.stdout().isBlank()) throw new AssertionError("reading the counter in " + name + " failed: " + r);
        return Long.parseLong(r.stdout().strip());
    }

    static long tcpCount(String name) throws Exception {
        return Long.parseLong(cli("exec", name, "--", "sh", "-c", "cat /tmp/tcp 2>/dev/null || echo 0").stdout().strip());
    }

    static void stop(String name) throws Exception {
        var stopped = cli("stop", name);
        assertThat(stopped.exit()).as(stopped.toString()).isZero();
        assertThat(inspect(name).path("thermal").asString()).isEqualTo("cold");
    }

    @Test @Order(1)
    void aColdSandboxIsItsMemoryFileAndTheDeviceStateAndComesBackExactly() throws Exception {
        var created = cli("create", "--name", "mf", "--memory", "256", "--keep-hot");
        assertThat(created.exit()).as(created.toString()).isZero();
        Path dir = sandboxDir("mf");
        Path ram = dir.resolve("memory.ram");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(ram))).as("guest memory is the daemon's alone").isEqualTo("rw-------");
        assertThat(Files.getOwner(ram).getName()).isEqualTo("root");
        assertThat(Files.size(ram)).isEqualTo(256L << 20);
        QemuJail.assertJailed(dir, 256, 1);

        assertThat(cli("exec", "--detach", "mf", "--", "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/n.new; mv /tmp/n.new /tmp/n; sleep 1; done").exit()).isZero();
        assertThat(cli("exec", "--detach", "mf", "--", "perl", "-MIO::Socket::INET", "-e", ThermalIT.TCP_SERVER).exit()).isZero();
        assertThat(cli("exec", "--detach", "mf", "--", "sh", "-c", "sleep 2; exec perl -MIO::Socket::INET -e '" + ThermalIT.TCP_CLIENT + "'").exit()).isZero();
        assertThat(cli("exec", "mf", "--", "sh", "-c", "head -c 3000000 /dev/urandom > /tmp/a; md5sum /tmp/a > /tmp/a.md5").exit()).isZero();
        await().atMost(Duration.ofSeconds(30)).until(() -> counter("mf") >= 2 && tcpCount("mf") >= 2);

        var cgroups = QemuJail.cgroupDirs(dir);
        stop("mf");
        QemuJail.assertNoCgroups(cgroups);
        assertThat(BhattiProcess.processesMentioning(dataDir)).as("no QEMU left").isEmpty();
        assertThat(Files.size(dir.resolve("memory.zst"))).as("the device state alone, no memory streamed").isLessThan(1 << 20);
        assertThat(inspect("mf").path("disk_bytes").asLong()).as("the memory file counts on disk").isGreaterThan(256L << 20);

        assertThat(cli("start", "mf").exit()).isZero();
        assertThat(dir.resolve("memory.zst")).as("stale once the guest runs").doesNotExist();
        long n = counter("mf");
        await().atMost(Duration.ofSeconds(20)).until(() -> counter("mf") > n);
        long t = tcpCount("mf");
        await("the TCP connection carries on").atMost(Duration.ofSeconds(20)).until(() -> tcpCount("mf") > t);
        assertThat(cli("exec", "mf", "--", "md5sum", "-c", "/tmp/a.md5").exit()).as("memory content survives").isZero();

        // the second stop writes what changed since the first; both states come back, by a wake on exec
        assertThat(cli("exec", "mf", "--", "sh", "-c", "head -c 2000000 /dev/urandom > /tmp/b; md5sum /tmp/b > /tmp/b.md5").exit()).isZero();
        stop("mf");
        assertThat(cli("exec", "mf", "--", "sh", "-c", "md5sum -c /tmp/a.md5 && md5sum -c /tmp/b.md5").exit()).isZero();
        assertThat(inspect("mf").path("thermal").asString()).isEqualTo("hot");
    }

    @Test @Order(2)
    void namedSnapshotsCarryTheMemoryFileAndClonesResumeFromIt() throws Exception {
        var taken = cli("snapshot", "create", "mf", "--name", "mfs");
        assertThat(taken.exit()).as(taken.toString()).isZero();
        Path snap = dataDir.resolve("snapshots").resolve(json(call("GET", "/snapshots/mfs", null).body()).path("id").asString());
        assertThat(snap.resolve("memory.ram")).exists();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(snap.resolve("memory.ram")))).isEqualTo("rw-------");
        assertThat(cli("exec", "mf", "--", "sh", "-c", "rm /tmp/a").exit()).as("the original goes on").isZero();

        var resumed = cli("snapshot", "resume", "mfs", "--name", "mfc");
        assertThat(resumed.exit()).as(resumed.toString()).isZero();
        assertThat(cli("exec", "mfc", "--", "md5sum", "-c", "/tmp/a.md5").exit()).as("the clone has the snapshot's memory").isZero();
        assertThat(cli("exec", "mfc", "--", "hostname").stdout().strip()).isEqualTo("mfc");
        long n = counter("mfc");
        await("the clone's processes run on").atMost(Duration.ofSeconds(20)).until(() -> counter("mfc") > n);
        Path cloneDir = sandboxDir("mfc");
        stop("mfc");
        assertThat(cli("exec", "mfc", "--", "md5sum", "-c", "/tmp/b.md5").exit()).isZero();

        assertThat(cli("destroy", "mfc", "-y").exit()).isZero();
        assertThat(cloneDir).as("destroy leaves nothing").doesNotExist();
        assertThat(cli("snapshot", "delete", "mfs", "-y").exit()).isZero();
        assertThat(snap).doesNotExist();
    }

    @Test @Order(3)
    void aLostMemoryFileGivesAClearErrorAndStartForceBootsAFreshOne() throws Exception {
        stop("mf");
        Files.delete(sandboxDir("mf").resolve("memory.ram"));
        var failed = cli("start", "mf");
        assertThat(failed.exit()).isNotZero();
        assertThat(failed.stderr()).as(failed.toString()).contains("memory file is missing").contains("--force");
        assertThat(cli("start", "mf").stderr()).as("no retry loop").contains("--force");
        var forced = cli("start", "--force", "mf");
        assertThat(forced.exit()).as(forced.toString()).isZero();
        assertThat(cli("exec", "mf", "--", "sh", "-c", "test -e /tmp/b && echo kept || echo gone").stdout()).as("a boot: /tmp is new").isEqualTo("gone\n");
        assertThat(Files.size(sandboxDir("mf").resolve("memory.ram"))).isEqualTo(256L << 20);
        assertThat(cli("destroy", "mf", "-y").exit()).isZero();
    }
}

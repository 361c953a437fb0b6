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
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Thermal states on real VMs: pause (warm), stop to disk (cold) and resume exactly where it was, the
 * automatic idling of the thermal manager (with short timers), transparent wake-ups, and a daemon
 * killed with SIGKILL coming back to the truth.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(DaemonLogOnFailure.class)
class ThermalIT {

    static Path dataDir;
    static BhattiProcess.Daemon daemon;

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-thermal-")
            // idle sandboxes pause after 4 s and go to disk after 15 s of no activity
            .config("thermal:\n  warm_after_sec: 4\n  cold_after_sec: 15\n  tick_sec: 0.5\n");

    @BeforeAll
    static void setUp() {
        dataDir = bhatti.dataDir();
        daemon = bhatti.daemon();
    }

    static HttpResponse<String> call(String method, String path, String body) throws Exception {
        return daemon.call(method, path, body);
    }

    static JsonNode json(String s) { return ApiClient.JSON.readTree(s); }

    static BhattiProcess.Result cli(String... args) throws Exception { return BhattiProcess.cli(daemon.env, args); }

    static JsonNode inspect(String name) throws Exception { return json(call("GET", "/sandboxes/" + name, null).body()); }

    static long counter(String name) throws Exception {
        var r = cli("exec", name, "--", "cat", "/tmp/n");
        if (r.exit() != 0 || r.stdout().isBlank()) throw new AssertionError("reading the counter in " + name + " failed: " + r);
        return Long.parseLong(r.stdout().strip());
    }

    /** Listens once on 127.0.0.1:7070 and records the last line received on its one connection. */
    static final String TCP_SERVER = "$s = IO::Socket::INET->new(LocalAddr => '127.0.0.1:7070', Listen => 1, ReuseAddr => 1) or die;"
            + " $c = $s->accept; close $s; while (<$c>) { open F, '>', '/tmp/tcp.tmp'; print F $_; close F; rename '/tmp/tcp.tmp', '/tmp/tcp' }";
    /** Sends an increasing number every second over one connection to the server. */
    static final String TCP_CLIENT = "$c = IO::Socket::INET->new(PeerAddr => q(127.0.0.1:7070)) or die; $c->autoflush(1);"
            + " for ($i = 1; ; $i++) { print $c qq($i\\n); sleep 1 }";

    static long tcpCount(String name) throws Exception {
        String out = cli("exec", name, "--", "sh", "-c", "cat /tmp/tcp 2>/dev/null || echo 0").stdout().strip();
        return Long.parseLong(out);
    }

    static Path sandboxDir(String name) throws Exception {
        return dataDir.resolve("sandboxes").resolve(inspect(name).path("id").asString());
    }

    /** Runs {@code task} on a virtual thread, its result to be collected with {@code join}. */
    static java.util.concurrent.CompletableFuture<BhattiProcess.Result> async(java.util.concurrent.Callable<BhattiProcess.Result> task) {
        var f = new java.util.concurrent.CompletableFuture<BhattiProcess.Result>();
        Thread.ofVirtual().start(() -> {
            try {
                f.complete(task.call());
            } catch (Exception e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    /**
     * Guest memory (secrets in the clear among it), disks and the store are the daemon's alone: no entry
     * under the data dir grants anything to group or others, and {@code nobody} cannot read {@code files}.
     */
    static void assertOnlyTheDaemonCanRead(List<Path> files) throws Exception {
        try (var all = Files.walk(dataDir)) {
            List<String> open = all.filter(p -> !Files.isSymbolicLink(p)).filter(p -> {
                try {
                    var perms = Files.getPosixFilePermissions(p, java.nio.file.LinkOption.NOFOLLOW_LINKS);
                    // a VM's directory lets its jailed QEMU's own group (not root's) in, and nothing else
                    if (Files.isDirectory(p) && (Integer) Files.getAttribute(p, "unix:gid") != 0) {
                        perms.remove(java.nio.file.attribute.PosixFilePermission.GROUP_EXECUTE);
                    }
                    return perms.stream().anyMatch(x -> !x.name().startsWith("OWNER"));
                } catch (java.io.IOException e) {
                    return false; // gone meanwhile
                }
            }).map(p -> dataDir.relativize(p).toString()).toList();
            assertThat(open).as("entries under the data dir that others may use").isEmpty();
        }
        for (Path f : files) {
            assertThat(f).exists();
            var p = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", "head", "-c", "1", f.toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor()).as("nobody reading " + f + ": " + out).isNotZero();
        }
    }

    /** Waits until a stop of the sandbox in {@code dir} is writing its memory snapshot. */
    static void awaitSnapshotInProgress(Path dir) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
                .until(() -> Files.exists(dir.resolve("memory.zst.partial")));
    }

    @Test @Order(1)
    void pauseKeepsMemoryAndAnyRequestResumes() throws Exception {
        var created = cli("create", "--name", "hot", "--memory", "256", "--keep-hot");
        assertThat(created.exit()).as(created.toString()).isZero();
        assertThat(inspect("hot").path("thermal").asString()).isEqualTo("hot");
        QemuJail.assertJailed(sandboxDir("hot"), 256, 1);
        var paused = cli("pause", "hot");
        assertThat(paused.exit()).as(paused.toString()).isZero();
        assertThat(paused.stdout()).contains("paused (running, warm)");
        assertThat(cli("pause", "hot").exit()).as("pausing twice is fine").isZero();
        assertThat(cli("list").stdout()).containsPattern("hot\\s+running\\s+warm");
        // a command wakes it transparently
        assertThat(cli("exec", "hot", "--", "echo", "awake").stdout()).isEqualTo("awake\n");
        assertThat(inspect("hot").path("thermal").asString()).isEqualTo("hot");
    }

    @Test @Order(2)
    void stopSnapshotsToDiskAndStartResumesExactlyWhereItWas() throws Exception {
        var counting = cli("exec", "--detach", "hot", "--", "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/n.new; mv /tmp/n.new /tmp/n; sleep 1; done");
        assertThat(counting.exit()).as(counting.toString()).isZero();
        assertThat(cli("exec", "hot", "--", "sh", "-c", "echo kept > /workspace/before.txt; head -c 3000000 /dev/urandom > /tmp/blob; md5sum /tmp/blob > /tmp/blob.md5").exit()).isZero();
        // two guest processes talking over one TCP connection; the server accepts only once
        assertThat(cli("exec", "--detach", "hot", "--", "perl", "-MIO::Socket::INET", "-e", TCP_SERVER).exit()).isZero();
        assertThat(cli("exec", "--detach", "hot", "--", "sh", "-c", "sleep 2; exec perl -MIO::Socket::INET -e '" + TCP_CLIENT + "'").exit()).isZero();
        await().atMost(Duration.ofSeconds(20)).until(() -> counter("hot") >= 2 && tcpCount("hot") >= 2);

        var cgroups = QemuJail.cgroupDirs(sandboxDir("hot"));
        var stopped = cli("stop", "hot");
        assertThat(stopped.exit()).as(stopped.toString()).isZero();
        QemuJail.assertNoCgroups(cgroups);
        JsonNode cold = inspect("hot");
        assertThat(cold.path("status").asString()).isEqualTo("stopped");
        assertThat(cold.path("thermal").asString()).isEqualTo("cold");
        assertThat(BhattiProcess.processesMentioning(dataDir)).as("the VM process ended; its memory is free").isEmpty();
        Path dir = dataDir.resolve("sandboxes").resolve(cold.path("id").asString());
        assertThat(dir.resolve("memory.zst")).exists();
        assertThat(cold.path("disk_bytes").asLong()).isPositive();
        assertThat(cli("stop", "hot").exit()).as("stopping twice is fine").isZero();
        var pauseCold = call("POST", "/sandboxes/hot/pause", null);
        assertThat(pauseCold.statusCode()).isEqualTo(409);

        Thread.sleep(3_000); // the guest clock must catch up with these seconds after the restore
        var started = cli("start", "hot");
        assertThat(started.exit()).as(started.toString()).isZero();
        assertThat(inspect("hot").path("thermal").asString()).isEqualTo("hot");
        assertThat(dir.resolve("memory.zst")).as("a resumed VM's snapshot is stale and removed").doesNotExist();
        QemuJail.assertJailed(dir, 256, 1);
        long n1 = counter("hot");
        await().atMost(Duration.ofSeconds(20)).until(() -> counter("hot") > n1);
        long t1 = tcpCount("hot");
        await("the TCP connection carries on").atMost(Duration.ofSeconds(20)).until(() -> tcpCount("hot") > t1);
        assertThat(cli("exec", "hot", "--", "cat", "/workspace/before.txt").stdout()).isEqualTo("kept\n");
        assertThat(cli("exec", "hot", "--", "sh", "-c", "md5sum -c /tmp/blob.md5").exit()).as("memory content survives").isZero();
        long guestClock = Long.parseLong(cli("exec", "hot", "--", "date", "+%s").stdout().strip());
        assertThat(Math.abs(guestClock - System.currentTimeMillis() / 1000)).as("the guest clock is corrected").isLessThanOrEqualTo(3);
    }

    @Test @Order(3)
    void aStoppedSandboxWakesOnTheNextRequest() throws Exception {
        // a second stop writes what changed since the first: both states must come back
        assertThat(cli("exec", "hot", "--", "sh", "-c", "head -c 2000000 /dev/urandom > /tmp/blob2; md5sum /tmp/blob2 > /tmp/blob2.md5").exit()).isZero();
        assertThat(cli("stop", "hot").exit()).isZero();
        assertThat(cli("exec", "hot", "--", "cat", "/workspace/before.txt").stdout()).isEqualTo("kept\n");
        assertThat(cli("exec", "hot", "--", "sh", "-c", "md5sum -c /tmp/blob.md5 && md5sum -c /tmp/blob2.md5").exit()).as("memory of both stops").isZero();
        assertThat(inspect("hot").path("status").asString()).isEqualTo("running");
    }

    @Test @Order(4)
    void idleSandboxesGoWarmThenColdByThemselvesAndWakeOnUse() throws Exception {
        var created = cli("create", "--name", "idle", "--memory", "256");
        assertThat(created.exit()).as(created.toString()).isZero();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .until(() -> inspect("idle").path("thermal").asString().equals("warm"));
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                .until(() -> inspect("idle").path("thermal").asString().equals("cold"));
        assertThat(inspect("hot").path("thermal").asString()).as("keep_hot is left alone").isEqualTo("hot");
        // concurrent first requests wake it once
        var threads = new java.util.ArrayList<Thread>();
        var outputs = new java.util.concurrent.ConcurrentLinkedQueue<String>();
        for (int i = 0; i < 4; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    outputs.add(json(call("POST", "/sandboxes/idle/exec", "{\"cmd\":[\"echo\",\"up\"]}").body()).path("stdout").asString());
                } catch (Exception e) {
                    outputs.add(e.toString());
                }
            }));
        }
        for (Thread t : threads) t.join(120_000);
        assertThat(outputs).containsExactly("up\n", "up\n", "up\n", "up\n");
        assertThat(daemon.log()).containsOnlyOnce("sandbox idle woken from cold");
    }

    @Test @Order(5)
    void aDaemonKilledHardComesBackWithTheTruth() throws Exception {
        assertThat(cli("stop", "idle").exit()).isZero();
        assertThat(cli("pause", "hot").exit()).isZero();
        daemon.kill();
        daemon.start();
        assertThat(inspect("idle").path("thermal").asString()).isEqualTo("cold");
        assertThat(inspect("hot").path("thermal").asString()).isEqualTo("warm");
        QemuJail.assertJailed(sandboxDir("hot"), 256, 1); // adopted, in the jail it was started in
        assertThat(cli("exec", "hot", "--", "echo", "warm-ok").stdout()).isEqualTo("warm-ok\n");
        assertThat(cli("exec", "idle", "--", "echo", "cold-ok").stdout()).isEqualTo("cold-ok\n");
    }

    @Test @Order(6)
    void aCorruptSnapshotGivesAClearErrorAndForceBootsTheDisk() throws Exception {
        assertThat(cli("stop", "idle").exit()).isZero();
        Path snap = dataDir.resolve("sandboxes").resolve(inspect("idle").path("id").asString()).resolve("memory.zst");
        Files.write(snap, new byte[]{1, 2, 3, 4});
        var failed = cli("start", "idle");
        assertThat(failed.exit()).isNotZero();
        assertThat(failed.stderr()).contains("could not restore").contains("--force");
        var again = cli("start", "idle");
        assertThat(again.exit()).as("no retry loop on a bad snapshot").isNotZero();
        assertThat(again.stderr()).contains("no snapshot").contains("--force");
        var forced = cli("start", "--force", "idle");
        assertThat(forced.exit()).as(forced.toString()).isZero();
        assertThat(cli("exec", "idle", "--", "echo", "rebooted").stdout()).isEqualTo("rebooted\n");
    }

    @Test @Order(7)
    void aNamedSnapshotResumesAsNewSandboxesWhileTheOriginalGoesOn() throws Exception {
        assertThat(cli("exec", "hot", "--", "sh", "-c", "echo moment > /workspace/moment.txt; rm -f /workspace/after.txt").exit()).isZero();
        var taken = cli("snapshot", "create", "hot", "--name", "pre");
        assertThat(taken.exit()).as(taken.toString()).isZero();
        assertThat(taken.stdout()).contains("snapshot/pre created from hot");
        JsonNode snap = json(call("GET", "/snapshots/pre", null).body());
        assertThat(snap.path("status").asString()).isEqualTo("ready");
        assertThat(snap.path("source_sandbox").asString()).isEqualTo("hot");
        assertThat(snap.path("size_bytes").asLong()).isPositive();
        Path snapDir = dataDir.resolve("snapshots").resolve(snap.path("id").asString());
        assertThat(snapDir.resolve("memory.zst")).exists();
        assertThat(snapDir.resolve("disk.qcow2")).exists();
        assertThat(inspect("hot").path("thermal").asString()).as("the original keeps running").isEqualTo("hot");
        var again = cli("snapshot", "create", "hot", "--name", "pre");
        assertThat(again.exit()).isNotZero();
        assertThat(again.stderr()).contains("exists");

        assertThat(cli("exec", "hot", "--", "sh", "-c", "echo later > /workspace/after.txt").exit()).isZero();
        var resumed = cli("snapshot", "resume", "pre", "--name", "retry");
        assertThat(resumed.exit()).as(resumed.toString()).isZero();
        assertThat(resumed.stdout()).contains("sandbox/retry resumed from snapshot pre");
        var second = call("POST", "/snapshots/pre/resume", "{\"name\":\"retry2\"}");
        assertThat(second.statusCode()).as(second.body()).isEqualTo(201);
        assertThat(json(second.body()).path("name").asString()).isEqualTo("retry2");

        QemuJail.assertJailed(sandboxDir("retry"), 256, 1);
        for (String clone : new String[]{"retry", "retry2"}) {
            assertThat(cli("exec", clone, "--", "cat", "/workspace/moment.txt").stdout()).isEqualTo("moment\n");
            assertThat(cli("exec", clone, "--", "test", "-e", "/workspace/after.txt").exit()).as("written after the snapshot").isEqualTo(1);
            assertThat(cli("exec", clone, "--", "hostname").stdout()).isEqualTo(clone + "\n");
            assertThat(cli("exec", clone, "--", "sudo", "-n", "true").stderr()).as("the new hostname resolves").doesNotContain("unable to resolve");
            long n = counter(clone);
            await("the counting process runs on in " + clone).atMost(Duration.ofSeconds(20)).until(() -> counter(clone) > n);
        }
        String random1 = cli("exec", "retry", "--", "sh", "-c", "head -c 16 /dev/urandom | od -An -tx1").stdout();
        String random2 = cli("exec", "retry2", "--", "sh", "-c", "head -c 16 /dev/urandom | od -An -tx1").stdout();
        assertThat(random1).as("clones draw different random numbers").isNotBlank().isNotEqualTo(random2);
        assertThat(cli("exec", "hot", "--", "hostname").stdout()).isEqualTo("hot\n");
        assertThat(cli("exec", "hot", "--", "cat", "/workspace/after.txt").stdout()).isEqualTo("later\n");

        var list = cli("snapshot", "list");
        assertThat(list.stdout()).containsPattern("pre\\s+hot\\s+ready");
        assertThat(json(cli("snapshot", "list", "--json").stdout())).hasSize(1);
        assertThat(call("POST", "/snapshots/pre/resume", "{\"name\":\"retry\"}").statusCode()).as("name taken").isEqualTo(409);
        assertThat(call("POST", "/snapshots/nope/resume", "{}").statusCode()).isEqualTo(404);
        assertThat(call("GET", "/snapshots/nope", null).statusCode()).isEqualTo(404);
        assertThat(call("POST", "/sandboxes/nope/checkpoint", "{\"name\":\"x\"}").statusCode()).isEqualTo(404);
        var badName = call("POST", "/sandboxes/hot/checkpoint", "{\"name\":\"../x\"}");
        assertThat(badName.statusCode()).isEqualTo(400);
        assertThat(call("POST", "/sandboxes/hot/checkpoint", "{}").statusCode()).isEqualTo(400);
        assertThat(call("POST", "/sandboxes/hot/checkpoint", "{\"name\":\"x\",\"extra\":1}").statusCode()).isEqualTo(400);

        var unconfirmed = cli("snapshot", "delete", "pre");
        assertThat(unconfirmed.exit()).as("no silent no-op without --yes").isNotZero();
        assertThat(unconfirmed.stderr()).contains("--yes");
        assertThat(cli("snapshot", "delete", "pre", "-y").exit()).isZero();
        assertThat(snapDir).doesNotExist();
        assertThat(call("GET", "/snapshots/pre", null).statusCode()).isEqualTo(404);
        assertThat(cli("exec", "retry", "--", "echo", "independent").stdout()).as("clones own their files").isEqualTo("independent\n");
        assertThat(cli("destroy", "retry2", "-y").exit()).isZero();
    }

    @Test @Order(8)
    void aColdSandboxCanBeSnapshottedAndStaysCold() throws Exception {
        assertThat(cli("stop", "idle").exit()).isZero();
        var taken = cli("snapshot", "create", "idle", "--name", "coldsnap", "--json");
        assertThat(taken.exit()).as(taken.toString()).isZero();
        assertThat(json(taken.stdout()).path("status").asString()).isEqualTo("ready");
        assertThat(inspect("idle").path("thermal").asString()).isEqualTo("cold");
        assertOnlyTheDaemonCanRead(List.of(sandboxDir("idle").resolve("memory.zst"), sandboxDir("idle").resolve("disk.qcow2"),
                dataDir.resolve("snapshots").resolve(json(taken.stdout()).path("id").asString()).resolve("memory.zst"),
                dataDir.resolve("state.db"), dataDir.resolve("daemon.log")));
        var resumed = cli("snapshot", "resume", "coldsnap", "--name", "fromcold");
        assertThat(resumed.exit()).as(resumed.toString()).isZero();
        assertThat(cli("exec", "fromcold", "--", "hostname").stdout()).isEqualTo("fromcold\n");
        assertThat(cli("exec", "idle", "--", "hostname").stdout()).isEqualTo("idle\n");
        assertThat(cli("snapshot", "delete", "coldsnap", "-y").exit()).isZero();
    }

    @Test @Order(9)
    void aRequestDuringAStopWaitsForItAndWakesTheSandbox() throws Exception {
        Path dir = sandboxDir("hot");
        var stopping = async(() -> cli("stop", "hot"));
        awaitSnapshotInProgress(dir);
        var exec = call("POST", "/sandboxes/hot/exec", "{\"cmd\":[\"cat\",\"/workspace/before.txt\"]}");
        assertThat(exec.statusCode()).as(exec.body()).isEqualTo(200);
        assertThat(json(exec.body()).path("stdout").asString()).isEqualTo("kept\n");
        var stopped = stopping.get(2, java.util.concurrent.TimeUnit.MINUTES);
        assertThat(stopped.exit()).as(stopped.toString()).isZero();
        assertThat(inspect("hot").path("thermal").asString()).as("woken after the stop").isEqualTo("hot");
    }

    @Test @Order(10)
    void destroyDuringAStopLeavesNothingBehind() throws Exception {
        // 64 MB of random memory makes the snapshot last long enough to be interrupted
        var fill = cli("exec", "retry", "--", "sh", "-c", "head -c 64000000 /dev/urandom > /tmp/fill");
        assertThat(fill.exit()).as(fill.toString()).isZero();
        Path dir = sandboxDir("retry");
        var stopping = async(() -> cli("stop", "retry"));
        awaitSnapshotInProgress(dir);
        var destroyed = call("DELETE", "/sandboxes/retry", null);
        assertThat(destroyed.statusCode()).as(destroyed.body()).isEqualTo(200);
        assertThat(stopping.get(2, java.util.concurrent.TimeUnit.MINUTES).exit()).as("the stop fails").isNotZero();
        assertThat(dir).doesNotExist();
        assertThat(BhattiProcess.processesMentioning(dir)).isEmpty();
        assertThat(call("GET", "/sandboxes/retry", null).statusCode()).isEqualTo(404);
    }

    @Test @Order(11)
    void aVmKilledWhileWarmIsReportedAndCanBeBootedAgain() throws Exception {
        assertThat(cli("exec", "fromcold", "--", "true").exit()).isZero(); // the thermal manager may have cooled it
        var paused = cli("pause", "fromcold");
        assertThat(paused.exit()).as(paused.toString()).isZero();
        Path dir = sandboxDir("fromcold");
        var cgroups = QemuJail.cgroupDirs(dir);
        for (long pid : BhattiProcess.processesMentioning(dir)) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        await().atMost(Duration.ofSeconds(30)).until(() -> inspect("fromcold").path("status").asString().equals("error"));
        QemuJail.assertNoCgroups(cgroups); // a VM killed from outside leaves no cgroup behind
        var exec = call("POST", "/sandboxes/fromcold/exec", "{\"cmd\":[\"true\"]}");
        assertThat(exec.statusCode()).isEqualTo(409);
        assertThat(exec.body()).contains("bhatti start");
        var start = cli("start", "fromcold");
        assertThat(start.exit()).isNotZero();
        assertThat(start.stderr()).contains("--force");
        var forced = cli("start", "--force", "fromcold");
        assertThat(forced.exit()).as(forced.toString()).isZero();
        assertThat(cli("exec", "fromcold", "--", "echo", "back").stdout()).isEqualTo("back\n");
        assertThat(cli("destroy", "fromcold", "-y").exit()).isZero();
    }

    @Test @Order(12)
    void aDaemonKilledMidStopComesBackWithAUsableSandboxAndNoHalfMadeSnapshots() throws Exception {
        long n = counter("hot");
        Path dir = sandboxDir("hot");
        Files.createDirectories(dataDir.resolve("snapshots").resolve("deadbeef.tmp"));
        Files.createDirectories(dataDir.resolve("snapshots").resolve("cafe1234"));
        var stopping = async(() -> cli("stop", "hot"));
        awaitSnapshotInProgress(dir);
        daemon.kill();
        stopping.get(2, java.util.concurrent.TimeUnit.MINUTES);
        daemon.start();
        JsonNode after = inspect("hot");
        assertThat(after.path("status").asString()).as(after.toString()).isEqualTo("running");
        assertThat(after.path("thermal").asString()).isIn("hot", "warm");
        assertThat(counter("hot")).as("the same processes run on").isGreaterThanOrEqualTo(n);
        await().atMost(Duration.ofSeconds(20)).until(() -> counter("hot") > n);
        assertThat(dataDir.resolve("snapshots").resolve("deadbeef.tmp")).as("a staged snapshot is removed").doesNotExist();
        assertThat(dataDir.resolve("snapshots").resolve("cafe1234")).as("files no snapshot names are removed").doesNotExist();
        assertThat(cli("stop", "hot").exit()).as("and it can be stopped again").isZero();
        assertThat(cli("exec", "hot", "--", "cat", "/workspace/before.txt").stdout()).isEqualTo("kept\n");
    }

    @Test @Order(13)
    void aDaemonKilledMidSnapshotOrMidStartLeavesNoHalfMadeSnapshotAndAUsableSandbox() throws Exception {
        var fill = cli("exec", "hot", "--", "sh", "-c", "head -c 64000000 /dev/urandom > /tmp/fill");
        assertThat(fill.exit()).as(fill.toString()).isZero();
        Path snapshots = dataDir.resolve("snapshots");
        var taking = async(() -> {
            var r = call("POST", "/sandboxes/hot/checkpoint", "{\"name\":\"interrupted\"}");
            return new BhattiProcess.Result(r.statusCode(), r.body(), "");
        });
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5)).until(() -> {
            try (var dirs = Files.list(snapshots)) {
                return dirs.anyMatch(d -> d.getFileName().toString().endsWith(".tmp") && Files.exists(d.resolve("memory.zst.partial")));
            }
        });
        daemon.kill();
        taking.handle((r, e) -> r).get(2, java.util.concurrent.TimeUnit.MINUTES);
        daemon.start();
        assertThat(json(call("GET", "/snapshots", null).body())).as("the half-made snapshot's record is gone").isEmpty();
        try (var dirs = Files.list(snapshots)) {
            assertThat(dirs).as("and so are its files").isEmpty();
        }
        assertThat(inspect("hot").path("thermal").asString()).isIn("hot", "warm");
        assertThat(cli("exec", "hot", "--", "cat", "/workspace/before.txt").stdout()).isEqualTo("kept\n");

        // killed while a cold sandbox is being restored: it comes back cold (its snapshot intact) or running
        assertThat(cli("exec", "hot", "--", "rm", "/tmp/fill").exit()).isZero();
        assertThat(cli("stop", "hot").exit()).isZero();
        Path dir = sandboxDir("hot");
        var starting = async(() -> {
            var r = call("POST", "/sandboxes/hot/start", "{}");
            return new BhattiProcess.Result(r.statusCode(), r.body(), "");
        });
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
                .until(() -> !BhattiProcess.processesMentioning(dir).isEmpty());
        daemon.kill();
        starting.handle((r, e) -> r).get(2, java.util.concurrent.TimeUnit.MINUTES);
        daemon.start();
        JsonNode back = inspect("hot");
        assertThat(back.path("status").asString()).as(back.toString()).isIn("running", "stopped");
        long n = counter("hot");
        await("the same processes run on").atMost(Duration.ofSeconds(20)).until(() -> counter("hot") > n);
        assertThat(cli("exec", "hot", "--", "cat", "/workspace/before.txt").stdout()).isEqualTo("kept\n");
    }
}

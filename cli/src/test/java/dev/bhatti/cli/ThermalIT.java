package dev.bhatti.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Thermal states on real VMs: pause (warm), stop to disk (cold) and resume exactly where it was, the
 * automatic idling of the thermal manager (with short timers), transparent wake-ups, and a daemon
 * killed with SIGKILL coming back to the truth.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ThermalIT {

    static Path dataDir;
    static BhattiProcess.Daemon daemon;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void setUp() throws Exception {
        var build = BhattiProcess.cli(Map.of(), "tier", "build", "minimal", "--data-dir", SandboxLifecycleIT.IMAGE_CACHE.toString());
        assertThat(build.exit()).as(build.toString()).isZero();
        dataDir = Files.createTempDirectory(Path.of("/tmp"), "bhatti-thermal-");
        Path images = Files.createDirectory(dataDir.resolve("images"));
        try (var files = Files.list(SandboxLifecycleIT.IMAGE_CACHE.resolve("images"))) {
            for (Path f : files.filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
                Files.createSymbolicLink(images.resolve(f.getFileName()), f);
            }
        }
        // Idle sandboxes pause after 4 s and go to disk after 15 s of no activity.
        Files.writeString(dataDir.resolve("config.yaml"), "thermal:\n  warm_after_sec: 4\n  cold_after_sec: 15\n  tick_sec: 0.5\n");
        daemon = new BhattiProcess.Daemon(dataDir, BhattiProcess.freePort()).start();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (daemon == null) return;
        for (JsonNode s : json(call("GET", "/sandboxes", null).body())) call("DELETE", "/sandboxes/" + s.path("id").asString(), null);
        daemon.stop();
        for (long pid : BhattiProcess.processesMentioning(dataDir)) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        System.out.println(daemon.log());
    }

    static HttpResponse<String> call(String method, String path, String body) throws Exception {
        var b = HttpRequest.newBuilder(URI.create(daemon.url() + path)).timeout(Duration.ofMinutes(5))
                .header("Authorization", "Bearer " + daemon.apiKey());
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(String s) { return ApiClient.JSON.readTree(s); }

    static BhattiProcess.Result cli(String... args) throws Exception { return BhattiProcess.cli(daemon.env, args); }

    static JsonNode inspect(String name) throws Exception { return json(call("GET", "/sandboxes/" + name, null).body()); }

    static long counter(String name) throws Exception {
        return Long.parseLong(cli("exec", name, "--", "cat", "/tmp/n").stdout().strip());
    }

    @Test @Order(1)
    void pauseKeepsMemoryAndAnyRequestResumes() throws Exception {
        var created = cli("create", "--name", "hot", "--memory", "256", "--keep-hot");
        assertThat(created.exit()).as(created.toString()).isZero();
        assertThat(inspect("hot").path("thermal").asString()).isEqualTo("hot");
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
        var counting = cli("exec", "--detach", "hot", "--", "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 1; done");
        assertThat(counting.exit()).as(counting.toString()).isZero();
        assertThat(cli("exec", "hot", "--", "sh", "-c", "echo kept > /workspace/before.txt; head -c 3000000 /dev/urandom > /tmp/blob; md5sum /tmp/blob > /tmp/blob.md5").exit()).isZero();
        await().atMost(Duration.ofSeconds(20)).until(() -> counter("hot") >= 2);

        var stopped = cli("stop", "hot");
        assertThat(stopped.exit()).as(stopped.toString()).isZero();
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
        long n1 = counter("hot");
        await().atMost(Duration.ofSeconds(20)).until(() -> counter("hot") > n1);
        assertThat(cli("exec", "hot", "--", "cat", "/workspace/before.txt").stdout()).isEqualTo("kept\n");
        assertThat(cli("exec", "hot", "--", "sh", "-c", "md5sum -c /tmp/blob.md5").exit()).as("memory content survives").isZero();
        long guestClock = Long.parseLong(cli("exec", "hot", "--", "date", "+%s").stdout().strip());
        assertThat(Math.abs(guestClock - System.currentTimeMillis() / 1000)).as("the guest clock is corrected").isLessThanOrEqualTo(3);
    }

    @Test @Order(3)
    void aStoppedSandboxWakesOnTheNextRequest() throws Exception {
        assertThat(cli("stop", "hot").exit()).isZero();
        assertThat(cli("exec", "hot", "--", "cat", "/workspace/before.txt").stdout()).isEqualTo("kept\n");
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
}

package dev.bhatti.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Forks on real VMs: {@code bhatti create --from SANDBOX} starts from the source's memory, processes and disk
 * (a counting process goes on counting in the fork), then the two diverge (files, random numbers,
 * hostnames); the source runs on; a stopped source is forked from its files; no snapshot is left behind;
 * refusals (unknown source, other settings, a read-write volume, the user's limits) come before any work.
 * Timings (fork next to snapshot create + resume) are printed, never asserted.
 */
@ExtendWith(DaemonLogOnFailure.class)
class ForkIT {

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-fork-");

    static BhattiProcess.Result ok(String... args) throws Exception { return bhatti.ok(args); }

    static String exec(String sandbox, String... cmd) throws Exception { return bhatti.exec(sandbox, cmd); }

    static JsonNode json(String s) { return ApiClient.JSON.readTree(s); }

    static long millis(long since) { return (System.nanoTime() - since) / 1_000_000; }

    static long counter(String sandbox) throws Exception { return Long.parseLong(exec(sandbox, "cat", "/tmp/n").strip()); }

    /** Polls until the sandbox's counter passes {@code above} (the counting process runs there). */
    static long counterPasses(String sandbox, long above) throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        long n;
        do {
            n = counter(sandbox);
            if (n > above) return n;
            Thread.onSpinWait();
        } while (Instant.now().isBefore(deadline));
        throw new AssertionError(sandbox + ": the counter stayed at " + n + ", not above " + above);
    }

    static String random(String sandbox) throws Exception { return exec(sandbox, "sh", "-c", "head -c 16 /dev/urandom | od -An -tx1"); }

    @Test
    void aForkStartsFromTheSourcesMomentThenGoesItsOwnWay() throws Exception {
        ok("volume", "create", "--name", "shared", "--size", "64M");
        ok("create", "--name", "dev", "--memory", "384", "--volume", "shared:/shared:ro");
        // a process whose state lives only in memory (its shell variable), and files written just before
        assertThat(bhatti.cli("exec", "--detach", "dev", "--", "sh", "-c",
                "i=0; while :; do i=$((i+1)); echo $i > /tmp/n.new; mv /tmp/n.new /tmp/n; sleep 1; done").exit()).isZero();
        exec("dev", "sh", "-c", "echo before > /workspace/before.txt");
        long atFork = counterPasses("dev", 2);

        long t0 = System.nanoTime();
        var forked = ok("create", "--name", "try-2", "--from", "dev", "--json");
        assertThat(exec("try-2", "echo", "up")).isEqualTo("up\n");
        long forkMs = millis(t0);
        JsonNode fork = json(forked.stdout());
        assertThat(fork.path("name").asString()).isEqualTo("try-2");
        assertThat(fork.path("memory_mb").asInt()).as("the source's size").isEqualTo(384);

        // the source's moment: its files, and its process counting on from where it was (not from 1)
        assertThat(exec("try-2", "cat", "/workspace/before.txt")).isEqualTo("before\n");
        long inFork = counter("try-2");
        assertThat(inFork).as("the fork's counter goes on from the source's").isGreaterThanOrEqualTo(atFork);
        counterPasses("try-2", inFork);
        assertThat(exec("try-2", "grep", " /shared ", "/proc/mounts")).as("the read-only volume is shared").contains(" ro,");
        assertThat(ok("volume", "inspect", "shared").stdout()).contains("dev:/shared:ro").contains("try-2:/shared:ro");

        // then each goes its own way
        exec("try-2", "sh", "-c", "echo fork > /workspace/fork-only.txt");
        exec("dev", "sh", "-c", "echo source > /workspace/source-only.txt");
        assertThat(bhatti.cli("exec", "dev", "--", "test", "-e", "/workspace/fork-only.txt").exit()).isEqualTo(1);
        assertThat(bhatti.cli("exec", "try-2", "--", "test", "-e", "/workspace/source-only.txt").exit()).isEqualTo(1);
        assertThat(exec("try-2", "hostname")).isEqualTo("try-2\n");
        assertThat(exec("dev", "hostname")).isEqualTo("dev\n");
        assertThat(random("try-2")).as("the fork draws its own random numbers").isNotBlank().isNotEqualTo(random("dev"));
        counterPasses("dev", counter("dev")); // the source runs on
        assertThat(json(bhatti.call("GET", "/snapshots", null).body())).as("no snapshot left behind").isEmpty();
        assertThat(snapshotDirs()).isEmpty();

        // the same moment through a named snapshot, for comparison
        long t1 = System.nanoTime();
        long memoryBytes = json(ok("snapshot", "create", "dev", "--name", "cmp", "--json").stdout()).path("size_bytes").asLong();
        long snapMs = millis(t1);
        ok("snapshot", "resume", "cmp", "--name", "cmp-1");
        assertThat(exec("cmp-1", "echo", "up")).isEqualTo("up\n");
        long snapResumeMs = millis(t1);
        ok("destroy", "cmp-1", "-y");
        ok("snapshot", "delete", "cmp", "-y");
        System.out.println("[fork] fork (request to first exec in the fork): " + forkMs + " ms; snapshot create " + snapMs
                + " ms + resume to first exec: " + snapResumeMs + " ms");

        // a filesystem snapshot: the disk only; resumed, it boots that disk afresh (files yes, processes no)
        assertThat(processes("dev", "[m]v /tmp/n.new")).as("the counter runs in the source").isPositive();
        long t3 = System.nanoTime();
        JsonNode fs = json(ok("snapshot", "create", "dev", "--name", "fs1", "--type", "filesystem", "--json").stdout());
        long fsMs = millis(t3);
        assertThat(fs.path("type").asString()).isEqualTo("filesystem");
        assertThat(fs.path("size_bytes").asLong()).as("no memory in it").isPositive().isLessThan(memoryBytes);
        assertThat(json(ok("snapshot", "inspect", "fs1", "--json").stdout()).path("type").asString()).isEqualTo("filesystem");
        assertThat(json(ok("snapshot", "list", "--json").stdout()).get(0).path("type").asString()).isEqualTo("filesystem");
        assertThat(ok("snapshot", "list").stdout()).containsPattern("fs1\\s+dev\\s+ready\\s+filesystem");
        long t4 = System.nanoTime();
        ok("snapshot", "resume", "fs1", "--name", "fs-1");
        assertThat(exec("fs-1", "cat", "/workspace/source-only.txt")).as("written before the snapshot").isEqualTo("source\n");
        long fsResumeMs = millis(t4);
        assertThat(exec("fs-1", "cat", "/workspace/before.txt")).isEqualTo("before\n");
        assertThat(processes("fs-1", "[m]v /tmp/n.new")).as("a fresh boot: no old processes").isZero();
        assertThat(exec("fs-1", "hostname")).isEqualTo("fs-1\n");
        counterPasses("dev", counter("dev")); // the source runs on
        System.out.println("[fork] filesystem snapshot: " + (fs.path("size_bytes").asLong() >> 10) + " KiB in " + fsMs + " ms, memory snapshot: "
                + (memoryBytes >> 10) + " KiB; filesystem resume (fresh boot) to first exec: " + fsResumeMs + " ms");
        ok("destroy", "fs-1", "-y");
        ok("snapshot", "delete", "fs1", "-y");

        // a warm (paused) source stays paused
        ok("destroy", "try-2", "-y");
        ok("pause", "dev");
        ok("create", "--name", "try-w", "--from", "dev");
        assertThat(exec("try-w", "cat", "/workspace/source-only.txt")).isEqualTo("source\n");
        assertThat(bhatti.inspect("dev").path("thermal").asString()).as("the warm source is not woken").isEqualTo("warm");
        ok("destroy", "try-w", "-y");

        // a stopped (cold) source is forked from its files, and stays stopped
        ok("stop", "dev");
        long t2 = System.nanoTime();
        ok("create", "--name", "try-3", "--from", "dev");
        assertThat(exec("try-3", "cat", "/workspace/source-only.txt")).isEqualTo("source\n");
        System.out.println("[fork] fork of a stopped sandbox to first exec: " + millis(t2) + " ms");
        counterPasses("try-3", counter("try-3"));
        assertThat(bhatti.inspect("dev").path("status").asString()).as("the cold source is not woken").isEqualTo("stopped");
        assertThat(snapshotDirs()).isEmpty();
        ok("destroy", "try-3", "-y");

        // refusals, before any work
        assertThat(bhatti.call("POST", "/sandboxes", "{\"name\":\"x\",\"from\":\"nosuch\"}").statusCode()).isEqualTo(404);
        var cpus = bhatti.call("POST", "/sandboxes", "{\"name\":\"x\",\"from\":\"dev\",\"cpus\":2}");
        assertThat(cpus.statusCode()).isEqualTo(400);
        assertThat(cpus.body()).contains("cpus");
        assertThat(bhatti.call("POST", "/sandboxes", "{\"name\":\"x\",\"from\":\"dev\",\"env\":{\"A\":\"b\"}}").statusCode()).isEqualTo(400);
        assertThat(bhatti.call("POST", "/sandboxes", "{\"name\":\"dev\",\"from\":\"dev\"}").statusCode()).as("a taken name").isEqualTo(409);
        ok("destroy", "dev", "-y");

        ok("volume", "create", "--name", "rw", "--size", "64M");
        ok("create", "--name", "writer", "--memory", "256", "--volume", "rw:/rw");
        var rw = bhatti.cli("create", "--name", "w2", "--from", "writer");
        assertThat(rw.exit()).as(rw.toString()).isNotZero();
        assertThat(rw.stderr()).contains("read-write").contains("rw");
        assertThat(bhatti.call("POST", "/sandboxes", "{\"name\":\"w2\",\"from\":\"writer\"}").statusCode()).isEqualTo(409);
        ok("destroy", "writer", "-y");

        // a user at their sandbox limit: 429, and nothing copied
        var user = BhattiProcess.cli(Map.of(), "user", "create", "--name", "solo", "--max-sandboxes", "1", "--json",
                "--data-dir", bhatti.dataDir().toString());
        assertThat(user.exit()).as(user.toString()).isZero();
        String key = json(user.stdout()).path("api_key").asString();
        assertThat(bhatti.daemon().call("POST", "/sandboxes", "{\"name\":\"one\",\"memory_mb\":256}", key).statusCode()).isEqualTo(201);
        var over = bhatti.daemon().call("POST", "/sandboxes", "{\"name\":\"two\",\"from\":\"one\"}", key);
        assertThat(over.statusCode()).as(over.body()).isEqualTo(429);
        assertThat(over.body()).contains("sandbox limit");
        assertThat(snapshotDirs()).isEmpty();
        assertThat(bhatti.daemon().call("DELETE", "/sandboxes/one", null, key).statusCode()).isEqualTo(200);
    }

    /** How many processes in the sandbox have {@code pattern} (a grep regex) in their command line. */
    static int processes(String sandbox, String pattern) throws Exception {
        return Integer.parseInt(exec(sandbox, "sh", "-c", "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done | grep -c '"
                + pattern + "' || true").strip());
    }

    /** The daemon's snapshot directories (a fork's temporary one must be gone). */
    static java.util.List<Path> snapshotDirs() throws Exception {
        Path dir = bhatti.dataDir().resolve("snapshots");
        if (!Files.isDirectory(dir)) return java.util.List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }
}

package dev.bhatti.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * SIGKILLs the daemon at random moments while a random mix of operations runs on a few small sandboxes
 * (creates, clones from snapshots, stops, starts, pauses, resumes, snapshots, destroys, execs), restarts it
 * and checks after each kill: every sandbox is running, stopped or honestly in error; an operation that was
 * answered before the kill holds; a running sandbox answers, a stopped one starts, one in error has a way
 * out (start --force or destroy); and nothing is left over (QEMU processes, TAPs, sandbox and snapshot
 * directories, half-written snapshot files, sockets).
 * <p>
 * Seeded: it prints its seed, and {@code -Dbhatti.kill.seed=N} replays the same choices (each round's plan
 * is drawn from the seed, the round and the sandboxes found; where a kill lands inside an operation still
 * depends on the machine's speed). {@code -Dbhatti.kill.count=N} sets the number of kills (12 by default, to bound CI's time; run 30 or more before a release).
 */
@ExtendWith(DaemonLogOnFailure.class)
class RandomKillIT {
    static final long SEED = Long.getLong("bhatti.kill.seed", new java.security.SecureRandom().nextLong());
    static final int KILLS = Integer.getInteger("bhatti.kill.count", 12); // CI's share; release checks run 30 and more
    static final int MAX_SANDBOXES = 3;
    static final int MAX_SNAPSHOTS = 3;

    static Path dataDir;
    static String netns;
    static BhattiProcess.Daemon daemon;
    static HttpClient http;
    static final long T0 = System.nanoTime();
    static final List<String> opLog = new CopyOnWriteArrayList<>();
    /** Answers that were neither a success nor the kill's doing. */
    static final List<String> unexpected = new CopyOnWriteArrayList<>();
    static boolean passed;
    /** How much slower than typical this host boots (at least 1). */
    static double slowness = 1;

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-kill-")
            .before(dir -> {
                netns = "bhk-" + Long.toHexString(System.nanoTime() & 0xffffffL);
                sh("ip", "netns", "add", netns);
                sh("ip", "-n", netns, "link", "set", "lo", "up");
            })
            // no thermal timers: every change of state is the test's own doing; networking on so that TAPs are checked too
            .config(dir -> """
                    thermal: {warm_after_sec: 0, cold_after_sec: 0}
                    rate_limits: {create: {burst: 0, per_minute: 0}, exec: {burst: 0, per_minute: 0}}
                    network:
                      enabled: true
                      pool: 10.231.0.0/16
                      netns: %s
                      dns_upstreams: [198.18.0.2]
                    """.formatted(netns))
            .keepSandboxesAtEnd()
            .logTail(300)
            .after(() -> {
                if (netns != null) sh("ip", "netns", "del", netns);
                if (passed) deleteTree(dataDir); // its snapshots take room; a failed run's stay for a look
            });

    @BeforeAll
    static void setUp() throws Exception {
        log("seed " + SEED + " (replay with -Dbhatti.kill.seed=" + SEED + "), " + KILLS + " kills");
        dataDir = bhatti.dataDir();
        daemon = bhatti.daemon();
        http = HttpClient.newHttpClient();
        // one boot and one snapshot to begin with: new sandboxes are mostly clones of snapshots (faster than a boot)
        long bootStart = System.nanoTime();
        var created = call("POST", "/sandboxes", "{\"name\":\"k0\",\"memory_mb\":256}");
        // on a loaded host every operation is slower: stretch the kill delays alike, or kills land only in the first ones
        slowness = Math.max(1.0, (System.nanoTime() - bootStart) / 1e6 / Op.CREATE.typicalMs);
        check(created.statusCode() == 201, "create k0: " + created.statusCode() + " " + created.body());
        var taken = call("POST", "/sandboxes/k0/checkpoint", "{\"name\":\"p0\"}");
        check(taken.statusCode() / 100 == 2, "snapshot p0: " + taken.statusCode() + " " + taken.body());
        log(String.format("k0 booted and snapshot p0 taken; kill delays stretched %.1fx", slowness));
    }

    // ------------------------------------------------------------------ the plan

    /** Typical durations on a 2-core TCG host, so that a kill's random delay lands inside operations. */
    enum Op {
        CREATE(12_000), CLONE(5_000), STOP(3_000), START(4_000), PAUSE(200), RESUME(200), SNAPSHOT(4_000), DESTROY(1_500),
        EXEC(300), DELETE_SNAPSHOT(200);

        final long typicalMs;

        Op(long typicalMs) { this.typicalMs = typicalMs; }
    }

    enum Thermal { HOT, WARM, COLD, GONE }

    /** One operation; {@code snapshot} names the snapshot a clone, snapshot or snapshot delete uses. */
    record Step(Op op, String sandbox, String snapshot) {
        @Override public String toString() { return op.name().toLowerCase() + " " + (sandbox == null ? "" : sandbox) + (snapshot == null ? "" : " " + snapshot); }
    }

    /** What a step got: an HTTP status, or -1 when the kill cut it off. */
    record Outcome(Step step, int status, String body, long ms) {
        boolean ok() { return status >= 200 && status < 300; }
    }

    /** Operations run one after another on one sandbox. */
    static final class Worker {
        final String sandbox;
        final List<Step> walk = new ArrayList<>();
        final List<Outcome> outcomes = new CopyOnWriteArrayList<>();
        volatile Step current;
        volatile long currentSince;
        Thread thread;

        Worker(String sandbox) { this.sandbox = sandbox; }

        /** The state its walk leaves the sandbox in, if every step was answered with a success. */
        Thermal expected(Thermal from) {
            Thermal t = from;
            for (Step s : walk) {
                t = switch (s.op()) {
                    case CREATE, CLONE, START, RESUME, EXEC -> Thermal.HOT;
                    case STOP -> Thermal.COLD;
                    case PAUSE -> Thermal.WARM;
                    case DESTROY -> Thermal.GONE;
                    case SNAPSHOT, DELETE_SNAPSHOT -> t;
                };
            }
            return t;
        }

        boolean allAnswered() { return outcomes.size() == walk.size() && outcomes.stream().allMatch(Outcome::ok); }
    }

    static int nameCounter;

    /** A round's operations: one to three workers on distinct sandboxes, some of them new. */
    static List<Worker> plan(Random rnd, List<String> sandboxes, List<String> snapshots) {
        var free = new ArrayList<>(sandboxes);
        Collections.shuffle(free, rnd);
        int count = 1 + rnd.nextInt(rnd.nextInt(4) == 0 ? 3 : 2);
        int total = sandboxes.size();
        var snaps = new ArrayList<>(snapshots);
        var workers = new ArrayList<Worker>();
        boolean booting = false;
        for (int w = 0; w < count; w++) {
            boolean canAdd = total < MAX_SANDBOXES;
            Worker worker;
            if (canAdd && (free.isEmpty() || total < 2 || rnd.nextInt(4) == 0)) {
                worker = new Worker("k" + (++nameCounter));
                // a boot is slow under TCG (one per round at most): mostly clone the newest snapshot there is
                // at the start of the round (a snapshot delete of this round takes the oldest)
                boolean fresh = snapshots.isEmpty() || (!booting && rnd.nextInt(5) == 0);
                if (fresh && booting) break;
                booting |= fresh;
                worker.walk.add(new Step(fresh ? Op.CREATE : Op.CLONE, worker.sandbox, fresh ? null : snapshots.getLast()));
                total++;
            } else if (!free.isEmpty()) {
                worker = new Worker(free.removeFirst());
            } else {
                break;
            }
            Thermal t = Thermal.HOT;
            int steps = (worker.walk.isEmpty() ? 1 : 0) + rnd.nextInt(3);
            for (int i = 0; i < steps && t != Thermal.GONE; i++) {
                Step step = next(rnd, worker.sandbox, t, snaps, total);
                if (step.op() == Op.DESTROY) total--;
                worker.walk.add(step);
                t = worker.expected(Thermal.HOT);
            }
            workers.add(worker);
        }
        return workers;
    }

    /** A random operation that makes sense in state {@code t}. */
    static Step next(Random rnd, String sandbox, Thermal t, List<String> snaps, int total) {
        List<Op> choices = switch (t) {
            case HOT -> List.of(Op.STOP, Op.STOP, Op.STOP, Op.PAUSE, Op.PAUSE, Op.SNAPSHOT, Op.SNAPSHOT, Op.EXEC, Op.DESTROY);
            case WARM -> List.of(Op.RESUME, Op.RESUME, Op.STOP, Op.STOP, Op.SNAPSHOT, Op.EXEC, Op.DESTROY);
            case COLD -> List.of(Op.START, Op.START, Op.START, Op.SNAPSHOT, Op.EXEC, Op.DESTROY);
            case GONE -> throw new IllegalStateException();
        };
        Op op = choices.get(rnd.nextInt(choices.size()));
        if (op == Op.DESTROY && total <= 1) op = Op.EXEC; // keep something to work on
        if (op == Op.SNAPSHOT) {
            if (snaps.size() >= MAX_SNAPSHOTS) return new Step(Op.DELETE_SNAPSHOT, null, snaps.removeFirst());
            String name = "p" + (++nameCounter);
            snaps.add(name);
            return new Step(Op.SNAPSHOT, sandbox, name);
        }
        return new Step(op, sandbox, null);
    }

    // ------------------------------------------------------------------ the run

    @Test
    void theDaemonSurvivesRandomKills() throws Exception {
        int round = 0;
        long started = System.nanoTime();
        try {
            List<String> sandboxes = new ArrayList<>(List.of("k0"));
            List<String> snapshots = new ArrayList<>(List.of("p0"));
            for (round = 1; round <= KILLS; round++) {
                var rnd = new Random(SEED ^ (round * 0x9E3779B97F4A7C15L));
                Map<String, Thermal> before = new TreeMap<>();
                for (String s : sandboxes) before.put(s, Thermal.HOT);
                List<Worker> workers = plan(rnd, sandboxes, snapshots);
                long planned = workers.stream().mapToLong(w -> w.walk.stream().mapToLong(s -> s.op().typicalMs).sum()).max().orElse(0);
                // up to half again the planned time: some walks end before the kill, whose answers must then hold
                long delay = (long) (rnd.nextDouble() * planned * 1.5 * slowness);
                log("round " + round + ": " + workers.stream().map(w -> w.walk.toString()).toList() + ", kill after " + delay + " ms");
                Set<String> snapshotsBefore = Set.copyOf(snapshots);
                runAndKill(workers, delay);
                restart();
                check(round, before, snapshotsBefore, workers, rnd);
                sandboxes = names(get("/sandboxes"));
                snapshots = names(get("/snapshots"));
            }
            log("survived " + KILLS + " kills in " + (System.nanoTime() - started) / 1_000_000_000 + " s; answers that were not the kill's doing: "
                    + unexpected.size());
            if (!unexpected.isEmpty()) throw new AssertionError("operations failed while the daemon lived:\n" + String.join("\n", unexpected));
            passed = true;
        } catch (AssertionError | Exception e) {
            int from = Math.max(0, opLog.size() - 150);
            throw new AssertionError("random kill run failed in round " + round + " of " + KILLS + "; replay with -Dbhatti.kill.seed=" + SEED
                    + "\n--- operation log" + (from > 0 ? " (last 150 lines)" : "") + "\n" + String.join("\n", opLog.subList(from, opLog.size()))
                    + "\n--- failure: " + e, e);
        }
    }

    /** Runs the workers and SIGKILLs the daemon after {@code delay} ms, or as soon as they have all finished. */
    static void runAndKill(List<Worker> workers, long delay) throws Exception {
        long start = System.nanoTime();
        var client = http;
        for (Worker w : workers) {
            w.thread = Thread.ofPlatform().name("worker-" + w.sandbox).start(() -> {
                for (Step step : w.walk) {
                    w.current = step;
                    w.currentSince = System.nanoTime();
                    Outcome o = perform(client, step);
                    w.outcomes.add(o);
                    w.current = null;
                    log("  " + step + " -> " + (o.status() < 0 ? "no answer" : o.status() + (o.ok() ? "" : " " + o.body().strip())) + " (" + o.ms() + " ms)");
                    if (o.status() < 0) return;
                    if (!o.ok()) unexpected.add(step + " -> " + o.status() + " " + o.body().strip());
                    if (!o.ok()) return;
                }
            });
        }
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(delay);
        for (Worker w : workers) {
            long left = deadline - System.nanoTime();
            if (left > 0) w.thread.join(Duration.ofNanos(left));
        }
        var inFlight = new ArrayList<String>();
        for (Worker w : workers) {
            Step s = w.current;
            if (s != null) inFlight.add(s + " for " + (System.nanoTime() - w.currentSince) / 1_000_000 + " ms");
        }
        daemon.kill();
        log("KILL at " + (System.nanoTime() - start) / 1_000_000 + " ms" + (inFlight.isEmpty() ? ", nothing in flight" : ", in flight: " + inFlight));
        for (Worker w : workers) {
            if (!w.thread.join(Duration.ofMinutes(2))) throw new AssertionError("worker " + w.sandbox + " did not end after the kill");
        }
    }

    static Outcome perform(HttpClient client, Step s) {
        long start = System.nanoTime();
        String n = s.sandbox();
        try {
            HttpResponse<String> r = switch (s.op()) {
                case CREATE -> send(client, "POST", "/sandboxes", "{\"name\":\"" + n + "\",\"memory_mb\":256}");
                case CLONE -> send(client, "POST", "/snapshots/" + s.snapshot() + "/resume", "{\"name\":\"" + n + "\"}");
                case STOP, PAUSE, RESUME -> send(client, "POST", "/sandboxes/" + n + "/" + s.op().name().toLowerCase(), null);
                case START -> send(client, "POST", "/sandboxes/" + n + "/start", "{}");
                case SNAPSHOT -> send(client, "POST", "/sandboxes/" + n + "/checkpoint", "{\"name\":\"" + s.snapshot() + "\"}");
                case DESTROY -> send(client, "DELETE", "/sandboxes/" + n, null);
                case EXEC -> send(client, "POST", "/sandboxes/" + n + "/exec", "{\"cmd\":[\"sh\",\"-c\",\"echo $((6*7))\"]}");
                case DELETE_SNAPSHOT -> send(client, "DELETE", "/snapshots/" + s.snapshot(), null);
            };
            int status = r.statusCode();
            if (s.op() == Op.EXEC && status == 200 && !json(r.body()).path("stdout").asString().equals("42\n")) status = 599; // a wrong answer
            return new Outcome(s, status, r.body(), (System.nanoTime() - start) / 1_000_000);
        } catch (IOException e) {
            return new Outcome(s, -1, e.toString(), (System.nanoTime() - start) / 1_000_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(s, -1, e.toString(), 0);
        }
    }

    static void startDaemon() throws Exception {
        http = HttpClient.newHttpClient(); // no connection of the killed daemon is reused
        daemon.start();
    }

    static void restart() throws Exception {
        long start = System.nanoTime();
        startDaemon();
        log("restarted in " + (System.nanoTime() - start) / 1_000_000 + " ms");
    }

    // ------------------------------------------------------------------ the checks

    static void check(int round, Map<String, Thermal> before, Set<String> snapshotsBefore, List<Worker> workers, Random rnd) throws Exception {
        JsonNode list = get("/sandboxes");
        var found = new TreeMap<String, JsonNode>();
        for (JsonNode s : list) found.put(s.path("name").asString(), s);
        log("  found " + found.values().stream().map(s -> s.path("name").asString() + " " + s.path("status").asString() + "/"
                + s.path("thermal").asString() + (s.path("detail").asString("").isEmpty() ? "" : " (" + s.path("detail").asString() + ")")).toList());

        // an interrupted operation leaves nothing half-made
        for (JsonNode s : found.values()) {
            assertIn(s, "status", "running", "stopped", "error");
        }
        // an answered operation holds, and a sandbox nothing touched is as it was
        Map<String, Thermal> expected = new HashMap<>(before);
        for (Worker w : workers) {
            expected.remove(w.sandbox);
            if (w.allAnswered()) expected.put(w.sandbox, w.expected(Thermal.HOT));
            Outcome first = w.outcomes.isEmpty() ? null : w.outcomes.getFirst();
            if (first != null && first.status() < 0 && (first.step().op() == Op.CREATE || first.step().op() == Op.CLONE)) {
                JsonNode s = found.get(w.sandbox);
                check(s == null || s.path("status").asString().equals("running"), "a create cut short by the kill is undone, not left: " + s);
            }
        }
        for (var e : expected.entrySet()) {
            JsonNode s = found.get(e.getKey());
            if (e.getValue() == Thermal.GONE) {
                check(s == null, "sandbox " + e.getKey() + " was destroyed (answered) but is listed: " + s);
                continue;
            }
            check(s != null, "sandbox " + e.getKey() + " should be " + e.getValue() + " but is not listed");
            String status = e.getValue() == Thermal.COLD ? "stopped" : "running";
            String thermal = e.getValue().name().toLowerCase();
            check(s.path("status").asString().equals(status) && s.path("thermal").asString().equals(thermal),
                    "sandbox " + e.getKey() + " should be " + status + "/" + thermal + " after answered operations: " + s);
        }
        var snapshotsFound = new TreeMap<String, JsonNode>();
        for (JsonNode s : get("/snapshots")) snapshotsFound.put(s.path("name").asString(), s);
        for (Worker w : workers) {
            for (Outcome o : w.outcomes) {
                if (!o.ok()) continue;
                if (o.step().op() == Op.SNAPSHOT) check(snapshotsFound.containsKey(o.step().snapshot()), "snapshot " + o.step().snapshot() + " was answered but is gone");
                if (o.step().op() == Op.DELETE_SNAPSHOT) check(!snapshotsFound.containsKey(o.step().snapshot()), "snapshot " + o.step().snapshot() + " was deleted (answered) but is listed");
            }
        }
        for (JsonNode s : snapshotsFound.values()) check(s.path("status").asString().equals("ready"), "a snapshot is left half-made: " + s);
        checkNothingLeftOver(found, snapshotsFound, false);

        // each one usable, or in error with a way out
        for (JsonNode s : found.values()) {
            String name = s.path("name").asString();
            switch (s.path("status").asString()) {
                case "running" -> checkExec(name);
                case "stopped" -> {
                    var started = call("POST", "/sandboxes/" + name + "/start", "{}");
                    if (started.statusCode() != 200) {
                        // a sandbox that lost its memory (a restore that failed, a destroy cut short after its VM ended)
                        log("  start " + name + " -> " + started.statusCode() + " " + started.body().strip());
                        check(started.statusCode() == 409, "start of stopped " + name + " failed: " + started.body());
                        check(started.body().contains("--force"), "a failed start says what to do: " + started.body());
                        wayOut(name, true);
                    } else {
                        checkExec(name);
                    }
                }
                case "error" -> {
                    var exec = call("POST", "/sandboxes/" + name + "/exec", "{\"cmd\":[\"true\"]}");
                    check(exec.statusCode() == 409 && exec.body().contains("bhatti start"), "an exec in " + name + " (error) says what to do: " + exec.statusCode() + " " + exec.body());
                    wayOut(name, rnd.nextBoolean());
                }
                default -> throw new AssertionError("unreachable");
            }
        }
        found.clear();
        for (JsonNode s : get("/sandboxes")) found.put(s.path("name").asString(), s);
        for (JsonNode s : found.values()) {
            check(s.path("status").asString().equals("running") && s.path("thermal").asString().equals("hot"), "after the checks every sandbox runs: " + s);
        }
        checkNothingLeftOver(found, snapshotsFound, true);
    }

    /** start --force (which must then run it) or destroy (which must leave nothing behind). */
    static void wayOut(String name, boolean force) throws Exception {
        if (force) {
            var forced = call("POST", "/sandboxes/" + name + "/start", "{\"force\":true}");
            log("  start --force " + name + " -> " + forced.statusCode() + (forced.statusCode() == 200 ? "" : " " + forced.body().strip()));
            if (forced.statusCode() == 200) {
                checkExec(name);
                // and every transition works on the new VM (none may use a connection to the old one)
                for (String op : List.of("pause", "resume")) {
                    var r = call("POST", "/sandboxes/" + name + "/" + op, null);
                    check(r.statusCode() == 200, op + " after start --force of " + name + ": " + r.statusCode() + " " + r.body());
                }
                checkExec(name);
                return;
            }
        }
        var destroyed = call("DELETE", "/sandboxes/" + name, null);
        log("  destroy " + name + " -> " + destroyed.statusCode() + (destroyed.statusCode() == 200 ? "" : " " + destroyed.body().strip()));
        check(destroyed.statusCode() == 200, "destroy of " + name + " failed: " + destroyed.body());
    }

    static void checkExec(String name) throws Exception {
        var r = call("POST", "/sandboxes/" + name + "/exec", "{\"cmd\":[\"sh\",\"-c\",\"echo $((6*7))\"]}");
        check(r.statusCode() == 200 && json(r.body()).path("stdout").asString().equals("42\n"), "exec in " + name + " failed: " + r.statusCode() + " " + r.body());
    }

    static final Pattern VM_DIR = Pattern.compile("/sandboxes/([0-9a-f]+)/");
    static final Set<String> SNAPSHOT_PIECES = Set.of("memory.zst.partial", "memory.zst.written", "memory.zst.error", "memory.zst.log");

    /**
     * One directory per sandbox and none more, one QEMU per sandbox that runs and none for one that does
     * not, one TAP per sandbox, no half-written snapshot files, no sockets without a VM, one directory per
     * snapshot, each complete. {@code allRunning}: after the checks, every sandbox has its VM.
     */
    static void checkNothingLeftOver(Map<String, JsonNode> sandboxes, Map<String, JsonNode> snapshots, boolean allRunning) throws Exception {
        var ids = new TreeMap<String, JsonNode>();
        for (JsonNode s : sandboxes.values()) ids.put(s.path("id").asString(), s);
        check(listDir(dataDir.resolve("sandboxes")).equals(ids.keySet()),
                "sandbox directories " + listDir(dataDir.resolve("sandboxes")) + " are not the sandboxes' " + ids.keySet());

        var qemus = new TreeMap<String, List<Long>>();
        for (long pid : BhattiProcess.processesMentioning(dataDir)) {
            String cmd;
            try {
                cmd = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"), StandardCharsets.ISO_8859_1);
            } catch (IOException e) {
                continue; // ended meanwhile
            }
            Matcher m = VM_DIR.matcher(cmd);
            check(m.find(), "a QEMU process of the data dir without a sandbox directory: " + cmd);
            qemus.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(pid);
        }
        for (var e : qemus.entrySet()) {
            JsonNode s = ids.get(e.getKey());
            check(s != null, "QEMU " + e.getValue() + " runs for " + e.getKey() + ", which no sandbox is");
            check(e.getValue().size() == 1, "more than one QEMU for " + s.path("name").asString() + ": " + e.getValue());
            check(!s.path("status").asString().equals("stopped"), "QEMU " + e.getValue() + " runs for stopped sandbox " + s);
        }
        for (JsonNode s : ids.values()) {
            String id = s.path("id").asString();
            boolean hasVm = qemus.containsKey(id);
            if (s.path("status").asString().equals("running") || allRunning) check(hasVm, "running sandbox " + s + " has no QEMU");
            Path dir = dataDir.resolve("sandboxes").resolve(id);
            Set<String> files = listDir(dir);
            for (String f : files) check(!SNAPSHOT_PIECES.contains(f), "a half-written snapshot file in " + s.path("name").asString() + ": " + files);
            boolean cold = s.path("thermal").asString().equals("cold");
            check(files.contains("memory.zst") == cold, "memory.zst " + (cold ? "missing from cold" : "left in") + " sandbox " + s + ": " + files);
            if (!hasVm) check(!files.contains("agent.sock") && !files.contains("qmp.sock"), "sockets without a VM in " + s + ": " + files);
        }

        var taps = new TreeSet<String>();
        for (String line : sh("ip", "-n", netns, "-o", "link", "show").lines().toList()) {
            Matcher m = Pattern.compile("^\\d+: ([^:@]+)[:@]").matcher(line);
            if (m.find() && m.group(1).startsWith("bt")) taps.add(m.group(1));
        }
        var wantTaps = new TreeSet<String>();
        for (String id : ids.keySet()) wantTaps.add("bt" + id.substring(Math.max(0, id.length() - 13)));
        check(taps.equals(wantTaps), "TAPs " + taps + " are not the sandboxes' " + wantTaps);

        var snapIds = new TreeSet<String>();
        for (JsonNode s : snapshots.values()) snapIds.add(s.path("id").asString());
        Path snapRoot = dataDir.resolve("snapshots");
        check(listDir(snapRoot).equals(snapIds), "snapshot directories " + listDir(snapRoot) + " are not the snapshots' " + snapIds);
        for (String id : snapIds) {
            check(listDir(snapRoot.resolve(id)).containsAll(Set.of("vm.properties", "memory.zst", "disk.qcow2")),
                    "snapshot " + id + " is incomplete: " + listDir(snapRoot.resolve(id)));
        }
    }

    // ------------------------------------------------------------------ helpers

    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    static Set<String> listDir(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return Set.of();
        try (Stream<Path> entries = Files.list(dir)) {
            return new TreeSet<>(entries.map(p -> p.getFileName().toString()).toList());
        }
    }

    static List<String> names(JsonNode list) {
        var names = new ArrayList<String>();
        for (JsonNode n : list) names.add(n.path("name").asString());
        return names;
    }

    static void assertIn(JsonNode s, String field, String... allowed) {
        check(List.of(allowed).contains(s.path(field).asString()), field + " of " + s + " is not one of " + List.of(allowed));
    }

    static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    static JsonNode get(String path) throws Exception {
        var r = call("GET", path, null);
        check(r.statusCode() == 200, "GET " + path + " -> " + r.statusCode() + " " + r.body());
        return json(r.body());
    }

    static HttpResponse<String> call(String method, String path, String body) throws IOException, InterruptedException {
        return send(http, method, path, body);
    }

    static HttpResponse<String> send(HttpClient client, String method, String path, String body) throws IOException, InterruptedException {
        var b = HttpRequest.newBuilder(URI.create(daemon.url() + path)).timeout(Duration.ofMinutes(5))
                .header("Authorization", "Bearer " + daemon.apiKey())
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(String s) { return ApiClient.JSON.readTree(s); }

    static void log(String line) {
        String entry = String.format("[%7.1f s] %s", (System.nanoTime() - T0) / 1e9, line);
        opLog.add(entry);
        System.out.println(entry);
    }

    static String sh(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
        return out;
    }
}

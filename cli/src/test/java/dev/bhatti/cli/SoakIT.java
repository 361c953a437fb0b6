package dev.bhatti.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random thermal transitions on a few sandboxes while a load generator keeps every host CPU busy: pause,
 * resume, stop, start, named snapshots, execs, file writes and quick stop/start/stop/exec cycles (the
 * sequence that once lost a good memory snapshot to a slow agent). Every step must succeed, and the
 * process started in each sandbox at the beginning and every file written must be there at the end.
 * <p>
 * The seed is printed; {@code -Dbhatti.soak.seed=N} replays a run, {@code -Dbhatti.soak.steps=N} makes it
 * longer (CI runs a short one).
 */
@ExtendWith(DaemonLogOnFailure.class)
class SoakIT {
    static final long SEED = Long.getLong("bhatti.soak.seed", System.nanoTime());
    static final int STEPS = Integer.getInteger("bhatti.soak.steps", 24);
    static final int SANDBOXES = Integer.getInteger("bhatti.soak.sandboxes", 2);
    /** Writes its pid once and a rising counter for ever: alive and counting means the processes survived. */
    static final String KEEPER = "echo $$ > /tmp/keeper.pid; n=0; while :; do n=$((n+1)); echo $n > /tmp/keeper.n; sleep 0.2; done";

    static Path dataDir;
    static BhattiProcess.Daemon daemon;
    static final List<Process> load = new ArrayList<>();

    enum Thermal { HOT, WARM, COLD }

    /** What the test expects of one sandbox. */
    static final class Model {
        final String name;
        Thermal thermal = Thermal.HOT;
        String keeperPid;
        final Map<String, String> files = new HashMap<>();

        Model(String name) { this.name = name; }
    }

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-soak-")
            // no idle transitions of the daemon's own: the test decides every one
            .config("thermal:\n  warm_after_sec: 0\n  cold_after_sec: 0\nrate_limits:\n  exec: {burst: 1000, per_minute: 60000}\n");

    @BeforeAll
    static void setUp() {
        dataDir = bhatti.dataDir();
        daemon = bhatti.daemon();
    }

    @AfterAll
    static void stopLoad() {
        load.forEach(Process::destroyForcibly); // before the daemon stops (the extension's end comes after this)
    }

    static JsonNode json(String s) { return ApiClient.JSON.readTree(s); }

    @Test
    void randomTransitionsUnderFullCpuLoadLoseNothing() throws Exception {
        System.out.println("SoakIT: seed " + SEED + ", " + STEPS + " steps on " + SANDBOXES + " sandboxes (replay with -Dbhatti.soak.seed=" + SEED + ")");
        var random = new Random(SEED);
        var steps = new ArrayList<String>();
        var sandboxes = new ArrayList<Model>();
        for (int i = 0; i < SANDBOXES; i++) {
            var m = new Model("soak" + i);
            ok(steps, "create " + m.name, daemon.call("POST", "/sandboxes", "{\"name\":\"" + m.name + "\",\"cpus\":1,\"memory_mb\":256}"));
            ok(steps, "start keeper in " + m.name, exec(m, List.of("sh", "-c", KEEPER), true));
            m.keeperPid = awaitKeeper(steps, m);
            sandboxes.add(m);
        }
        // Saturate every CPU of the host from here on, as other tenants or a CI neighbour would.
        for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
            load.add(new ProcessBuilder("sh", "-c", "while :; do :; done").start());
        }
        for (int step = 0; step < STEPS; step++) {
            Model m = sandboxes.get(random.nextInt(sandboxes.size()));
            String path = "/sandboxes/" + m.name;
            switch (random.nextInt(9)) {
                case 0 -> {
                    if (m.thermal != Thermal.HOT) continue;
                    ok(steps, "pause " + m.name, daemon.call("POST", path + "/pause", null));
                    m.thermal = Thermal.WARM;
                }
                case 1 -> {
                    if (m.thermal != Thermal.WARM) continue;
                    ok(steps, "resume " + m.name, daemon.call("POST", path + "/resume", null));
                    m.thermal = Thermal.HOT;
                }
                case 2 -> {
                    if (m.thermal == Thermal.COLD) continue;
                    ok(steps, "stop " + m.name, daemon.call("POST", path + "/stop", null));
                    m.thermal = Thermal.COLD;
                }
                case 3 -> {
                    if (m.thermal != Thermal.COLD) continue;
                    ok(steps, "start " + m.name, daemon.call("POST", path + "/start", null));
                    m.thermal = Thermal.HOT;
                }
                case 4 -> {
                    String snapshot = "s" + step;
                    ok(steps, "snapshot " + m.name + " as " + snapshot, daemon.call("POST", path + "/checkpoint", "{\"name\":\"" + snapshot + "\"}"));
                    ok(steps, "delete snapshot " + snapshot, daemon.call("DELETE", "/snapshots/" + snapshot, null));
                }
                case 5 -> {
                    // stop, start, stop again at once, then a request that wakes it: the slow-wake sequence
                    if (m.thermal != Thermal.COLD) ok(steps, "stop " + m.name, daemon.call("POST", path + "/stop", null));
                    ok(steps, "start " + m.name, daemon.call("POST", path + "/start", null));
                    ok(steps, "stop " + m.name + " right after its start", daemon.call("POST", path + "/stop", null));
                    checkKeeper(steps, m);
                }
                case 6 -> {
                    String file = "/workspace/f" + step;
                    String content = Long.toHexString(random.nextLong()).repeat(1 + random.nextInt(64));
                    ok(steps, "write " + file + " in " + m.name, daemon.call("PUT", path + "/files?path=" + file, content));
                    m.files.put(file, content);
                    m.thermal = Thermal.HOT;
                }
                default -> checkKeeper(steps, m);
            }
        }
        load.forEach(Process::destroyForcibly);
        for (Model m : sandboxes) {
            checkKeeper(steps, m);
            for (var f : m.files.entrySet()) {
                var read = daemon.call("GET", "/sandboxes/" + m.name + "/files?path=" + f.getKey(), null);
                ok(steps, "read " + f.getKey() + " in " + m.name, read);
                assertThat(read.body()).as("content of %s in %s after %s", f.getKey(), m.name, steps).isEqualTo(f.getValue());
            }
        }
        System.out.println("SoakIT: " + steps.size() + " requests, 0 failures (seed " + SEED + ")");
    }

    /** Any request wakes the sandbox; its keeper must be the one started at the beginning, and counting. */
    static void checkKeeper(List<String> steps, Model m) throws Exception {
        var r = exec(m, List.of("sh", "-c", "p=$(cat /tmp/keeper.pid); kill -0 $p && echo $p $(cat /tmp/keeper.n)"), false);
        ok(steps, "check the keeper of " + m.name, r);
        JsonNode body = json(r.body());
        assertThat(body.path("exit_code").asInt()).as("keeper of %s alive (seed %d) after %s: %s", m.name, SEED, steps, r.body()).isZero();
        String[] pidAndCount = body.path("stdout").asString().strip().split(" ");
        assertThat(pidAndCount[0]).as("keeper pid of %s (seed %d) after %s", m.name, SEED, steps).isEqualTo(m.keeperPid);
        m.thermal = Thermal.HOT;
    }

    static String awaitKeeper(List<String> steps, Model m) throws Exception {
        // the detached keeper writes its pid right away; a bounded poll of a guest file, not a sleep
        for (int i = 0; i < 200; i++) {
            var r = exec(m, List.of("sh", "-c", "cat /tmp/keeper.pid 2>/dev/null"), false);
            ok(steps, "read the keeper's pid in " + m.name, r);
            String pid = json(r.body()).path("stdout").asString().strip();
            if (!pid.isEmpty()) return pid;
        }
        throw new AssertionError("the keeper of " + m.name + " never wrote its pid");
    }

    static HttpResponse<String> exec(Model m, List<String> cmd, boolean detach) throws Exception {
        var body = ApiClient.JSON.writeValueAsString(Map.of("cmd", cmd, "detach", detach));
        return daemon.call("POST", "/sandboxes/" + m.name + "/exec", body);
    }

    static void ok(List<String> steps, String what, HttpResponse<String> r) {
        steps.add(what);
        assertThat(r.statusCode()).as("%s (step %d, seed %d): %s%nsteps so far: %s", what, steps.size(), SEED, r.body(), steps)
                .isBetween(200, 299);
    }
}

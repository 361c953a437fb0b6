package dev.bhatti.cli;

import dev.bhatti.testkit.PrometheusText;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Running the server, on a real VM: {@code GET /metrics} as Prometheus reads it (who may, and what it
 * counts after a create, execs, a pause and a wake), {@code bhatti admin metrics}, and {@code bhatti admin
 * backup} of the store while the daemon runs.
 */
@ExtendWith(DaemonLogOnFailure.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OperationsIT {

    static Path dataDir;
    static BhattiProcess.Daemon daemon;

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-ops-")
            .config("thermal:\n  warm_after_sec: 0\n  cold_after_sec: 0\n"); // only the test pauses: the counts are exact

    @BeforeAll
    static void setUp() {
        dataDir = bhatti.dataDir();
        daemon = bhatti.daemon();
    }

    /** {@code bhatti args...} on the server against the data directory (no key). */
    static BhattiProcess.Result onServer(String... args) throws Exception {
        var all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--data-dir", dataDir.toString()));
        return BhattiProcess.cli(Map.of(), all.toArray(String[]::new));
    }

    static Map<String, PrometheusText.Family> scrape() throws Exception {
        var r = daemon.call("GET", "/metrics", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain; version=0.0.4");
        var families = PrometheusText.parse(r.body()); // the Java client ships no text parser: held to the format strictly here
        // and read by the Prometheus project's own parser (its Python client, from Debian): both see the same families
        assertThat(prometheusClientParse(r.body())).as("families read by prometheus_client.parser")
                .containsExactlyInAnyOrderElementsOf(families.keySet());
        return families;
    }

    /** The family names the Prometheus Python client's parser reads from {@code exposition}; its failure fails the test. */
    static List<String> prometheusClientParse(String exposition) throws Exception {
        var pb = new ProcessBuilder("/usr/bin/python3", "-c", """
                import sys
                from prometheus_client.parser import text_string_to_metric_families
                for f in text_string_to_metric_families(sys.stdin.read()):
                    # the parser names counters without _total; the exposition's own name is the sample's
                    print(f.name + "_total" if f.type == "counter" else f.name)
                """);
        Path in = Files.createTempFile("metrics", ".txt");
        try {
            Files.writeString(in, exposition);
            Process p = pb.redirectInput(in.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(p.waitFor()).as("prometheus_client.parser: " + out).isZero();
            return out.lines().toList();
        } finally {
            Files.deleteIfExists(in);
        }
    }

    @Test
    @Order(1)
    void metricsCountWhatTheSandboxesDidAndOnlyTheAdminReadsThem() throws Exception {
        assertThat(daemon.call("GET", "/metrics", null, null).statusCode()).as("no credentials").isEqualTo(401);
        var carol = onServer("user", "create", "--name", "carol", "--json");
        assertThat(carol.exit()).as(carol.toString()).isZero();
        String carolKey = DaemonUnderTest.json(carol.stdout()).path("api_key").asString();
        assertThat(daemon.call("GET", "/metrics", null, carolKey).statusCode()).as("a user's key").isEqualTo(403);

        bhatti.ok("create", "--name", "m1", "--memory", "256");
        var exec = daemon.call("POST", "/sandboxes/m1/exec", "{\"cmd\":[\"echo\",\"hi\"]}");
        assertThat(exec.statusCode()).as(exec.body()).isEqualTo(200);
        assertThat(bhatti.exec("m1", "echo", "again")).isEqualTo("again\n");
        bhatti.ok("pause", "m1");
        assertThat(bhatti.exec("m1", "true")).as("woken from warm by the exec").isEmpty();

        var m = scrape();
        assertThat(m.get("bhatti_sandboxes").value("bhatti_sandboxes", "user", "admin", "state", "hot")).isEqualTo(1);
        var execs = m.get("bhatti_exec_seconds");
        assertThat(execs.value("bhatti_exec_seconds_count", "mode", "buffered")).as("the API exec").isGreaterThanOrEqualTo(1);
        double all = 0;
        for (String mode : List.of("buffered", "stream", "detached")) all += execs.value("bhatti_exec_seconds_count", "mode", mode);
        assertThat(all).as("the API's exec and the CLI's two").isEqualTo(3);
        var transitions = m.get("bhatti_transition_seconds");
        assertThat(transitions.value("bhatti_transition_seconds_count", "transition", "pause", "cause", "api")).isEqualTo(1);
        assertThat(transitions.value("bhatti_transition_seconds_count", "transition", "resume", "cause", "wake")).isEqualTo(1);
        assertThat(m.get("bhatti_wakes_total").value("bhatti_wakes_total", "from", "warm", "by", "api")).isEqualTo(1);
        assertThat(m.get("bhatti_sandbox_memory_rss_bytes").value("bhatti_sandbox_memory_rss_bytes", "user", "admin", "sandbox", "m1"))
                .as("QEMU's resident memory, read from /proc/<pid>/status").isGreaterThan(16 << 20);
        assertThat(m.get("bhatti_api_errors_total").value("bhatti_api_errors_total", "method", "GET", "route", "/metrics", "status", "403"))
                .isEqualTo(1);
        assertThat(m.get("bhatti_users").value("bhatti_users")).isEqualTo(2);

        var summary = bhatti.ok("admin", "metrics", "--json");
        JsonNode s = DaemonUnderTest.json(summary.stdout());
        assertThat(s.path("sandboxes").path("hot").asInt()).isEqualTo(1);
        assertThat(s.path("execs").path("count").asLong()).isEqualTo(3);
        assertThat(s.path("wakes").path("warm/api").asLong()).isEqualTo(1);
        assertThat(bhatti.ok("admin", "metrics").stdout()).contains("sandboxes:  1 (1 hot, 0 warm, 0 cold)").contains("warm/api 1");
        assertThat(BhattiProcess.cli(Map.of("BHATTI_URL", daemon.url(), "BHATTI_TOKEN", carolKey,
                "BHATTI_CONFIG", dataDir.resolve("none.yaml").toString()), "admin", "metrics").stderr()).contains("admin only");
    }

    @Test
    @Order(2)
    void theStoreIsCopiedWhileTheDaemonRuns() throws Exception {
        bhatti.ok("create", "--name", "b1", "--memory", "256");
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "bhatti-backup-");
        Path copy = dir.resolve("state-copy.db");
        try {
            var r = onServer("admin", "backup", "--to", copy.toString(), "--json");
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(DaemonUnderTest.json(r.stdout()).path("rows").path("users").asLong()).isPositive();
            assertThat(Files.getPosixFilePermissions(copy)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
            try (var c = DriverManager.getConnection("jdbc:sqlite:" + copy); var q = c.createStatement();
                 var rs = q.executeQuery("SELECT status FROM sandboxes WHERE name = 'b1'")) {
                assertThat(rs.next()).as("the sandbox's row is in the copy").isTrue();
                assertThat(rs.getString(1)).isEqualTo("running");
            }
            var again = onServer("admin", "backup", "--to", copy.toString());
            assertThat(again.exit()).isNotZero();
            assertThat(again.stderr()).contains("exists").contains("--force");
            assertThat(onServer("admin", "backup", "--to", copy.toString(), "--force").stdout()).contains("copied").contains("secrets.key");
            var nowhere = onServer("admin", "backup", "--to", dir.resolve("missing/state.db").toString());
            assertThat(nowhere.stderr()).contains("does not exist").contains("mkdir -p");
            assertThat(bhatti.exec("b1", "echo", "still")).as("the daemon went on meanwhile").isEqualTo("still\n");
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) Files.delete(p);
            }
            Files.delete(dir);
        }
    }
}

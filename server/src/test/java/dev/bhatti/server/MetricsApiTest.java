package dev.bhatti.server;

import dev.bhatti.server.api.Json;
import dev.bhatti.server.auth.UserAdmin;
import dev.bhatti.server.metrics.MetricsToken;
import dev.bhatti.server.store.SqliteStore;
import dev.bhatti.testkit.PrometheusText;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code /metrics} and {@code /admin/metrics} on a real daemon (Jetty, SQLite, the QEMU engine; no VM
 * booted): who may read them, and that what is served parses strictly and counts the requests made.
 */
class MetricsApiTest {

    @TempDir static Path dataDir;
    static Daemon daemon;
    static String base;
    static String adminKey;
    static String aliceKey;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        daemon = new Daemon(ServerConfig.load(dataDir, "127.0.0.1:0"));
        daemon.start(dataDir.resolve("cli.yaml"), null);
        base = "http://127.0.0.1:" + daemon.port();
        adminKey = Files.readString(dataDir.resolve("admin-api-key")).strip();
        try (var store = SqliteStore.open(dataDir.resolve("state.db"))) {
            aliceKey = new UserAdmin(store).create("alice", new UserAdmin.Quota(1, 1, 512, 1)).apiKey();
        }
    }

    @AfterAll
    static void stop() { daemon.close(); }

    static HttpResponse<String> get(String path, String bearer) throws Exception {
        var b = HttpRequest.newBuilder(URI.create(base + path));
        if (bearer != null) b.header("Authorization", "Bearer " + bearer);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void metricsNeedTheAdminsKeyOrTheMetricsToken() throws Exception {
        var none = get("/metrics", null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.body()).contains("metrics token");
        assertThat(get("/metrics", "not-a-key").statusCode()).isEqualTo(401);
        var alice = get("/metrics", aliceKey);
        assertThat(alice.statusCode()).as("a user's key is valid, but not for this").isEqualTo(403);
        assertThat(alice.body()).contains("admin only");
        assertThat(get("/admin/metrics", aliceKey).statusCode()).isEqualTo(403);
        assertThat(get("/admin/metrics", null).statusCode()).isEqualTo(401);

        String token = "scrape-" + "0123456789abcdef";
        assertThat(get("/metrics", token).statusCode()).as("no token file yet").isEqualTo(401);
        Files.writeString(dataDir.resolve(MetricsToken.FILE), token + "\n");
        try {
            var scraped = get("/metrics", token);
            assertThat(scraped.statusCode()).isEqualTo(200);
            assertThat(scraped.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain; version=0.0.4");
            assertThat(get("/admin/metrics", token).statusCode()).as("the token is for scraping only").isEqualTo(401);
        } finally {
            Files.delete(dataDir.resolve(MetricsToken.FILE));
        }
    }

    @Test
    void whatIsServedParsesAndCountsTheRequests() throws Exception {
        get("/sandboxes/nope", adminKey);
        var r = get("/metrics", adminKey);
        assertThat(r.statusCode()).isEqualTo(200);
        var m = PrometheusText.parse(r.body());
        assertThat(m).containsKeys("bhatti_users", "bhatti_transition_seconds", "bhatti_exec_seconds", "bhatti_wakes_total",
                "bhatti_api_requests_total", "bhatti_api_errors_total", "bhatti_host_load_average", "bhatti_host_memory_bytes",
                "bhatti_data_disk_bytes", "bhatti_host_cpus");
        assertThat(m).as("no sandboxes: no series of them").doesNotContainKeys("bhatti_sandboxes", "bhatti_sandbox_memory_rss_bytes");
        assertThat(m.get("bhatti_wakes_total").value("bhatti_wakes_total", "from", "cold", "by", "proxy")).as("known series start at 0").isZero();
        assertThat(m.get("bhatti_exec_seconds").value("bhatti_exec_seconds_count", "mode", "stream")).isZero();
        assertThat(m.get("bhatti_api_errors_total").value("bhatti_api_errors_total", "method", "GET", "route", "/sandboxes/{id}", "status", "404"))
                .isGreaterThanOrEqualTo(1);
        assertThat(m.get("bhatti_users").value("bhatti_users")).isEqualTo(2);

        var summary = get("/admin/metrics?since=2h", adminKey);
        assertThat(summary.statusCode()).as(summary.body()).isEqualTo(200);
        var json = Json.MAPPER.readTree(summary.body());
        assertThat(json.path("users").asInt()).isEqualTo(2);
        assertThat(json.path("api").path("requests_total").asLong()).isGreaterThanOrEqualTo(2);
        assertThat(json.path("sandboxes").path("total").asInt()).isZero();
        assertThat(json.path("history").isArray()).isTrue();
        assertThat(json.path("host").path("memory_total_bytes").asLong()).isGreaterThan(0);
        var bad = get("/admin/metrics?since=yesterday", adminKey);
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("30m, 1h, 7d");
    }
}

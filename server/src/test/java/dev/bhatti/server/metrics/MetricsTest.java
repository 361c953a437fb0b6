package dev.bhatti.server.metrics;

import dev.bhatti.server.store.UserRecord;
import dev.bhatti.server.testing.Services;
import dev.bhatti.testkit.PrometheusText;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The metrics over the real store and the in-memory engine: requests and execs counted, the minute rows
 * with their deltas and retention, the metrics token file, the host's files. (Transitions and wakes, and
 * the gauges of sandboxes: {@code sandbox.LifecycleMetricsTest}.)
 */
class MetricsTest {
    @TempDir Path dir;
    Services services;
    UserRecord alice;
    SandboxCensus census;

    @BeforeEach
    void setUp() {
        services = new Services(dir);
        alice = services.user("alice", 5);
        census = new SandboxCensus(services.store, services.engine);
        DaemonGauges.register(services.metrics, census, dir);
    }

    @AfterEach
    void tearDown() { services.close(); }

    /** The metrics as {@code GET /metrics} serves them, parsed strictly. */
    static Map<String, PrometheusText.Family> scrape(Metrics metrics) throws IOException {
        var out = new ByteArrayOutputStream();
        metrics.write(out);
        assertThat(metrics.contentType()).startsWith("text/plain; version=0.0.4");
        return PrometheusText.parse(out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void requestsAndErrorsAreCountedByMethodRouteAndStatus() throws Exception {
        var metrics = services.metrics;
        metrics.request("GET", "/sandboxes/{id}", 200);
        metrics.request("GET", "/sandboxes/{id}", 404);
        metrics.request("BREW", "unmatched", 405);
        metrics.exec("buffered", 2_000_000);
        var m = scrape(metrics);
        var requests = m.get("bhatti_api_requests_total");
        assertThat(requests.value("bhatti_api_requests_total", "method", "GET", "route", "/sandboxes/{id}")).isEqualTo(2);
        assertThat(requests.value("bhatti_api_requests_total", "method", "other", "route", "unmatched"))
                .as("a method nobody knows is one label value, not a new one per request").isEqualTo(1);
        var errors = m.get("bhatti_api_errors_total");
        assertThat(errors.value("bhatti_api_errors_total", "route", "/sandboxes/{id}", "status", "404")).isEqualTo(1);
        assertThat(errors.find("bhatti_api_errors_total", "status", "200")).isEmpty();
        assertThat(metrics.requestsTotal()).isEqualTo(3);
        assertThat(metrics.errorsTotal()).isEqualTo(2);
        var execs = m.get("bhatti_exec_seconds");
        assertThat(execs.value("bhatti_exec_seconds_count", "mode", "buffered")).isEqualTo(1);
        assertThat(execs.value("bhatti_exec_seconds_bucket", "mode", "buffered", "le", "0.005")).as("2 ms").isEqualTo(1);
        assertThat(metrics.execTotals().count()).isEqualTo(1);
    }

    @Test
    void everyRowCountsRequestsSinceTheLastOneAndRowsPastRetentionAreDropped() {
        var history = new MetricsHistory(services.store, census, services.metrics, dir, services.clock);
        services.sandboxes.create(alice, Services.named("dev"));
        services.sandboxes.create(alice, Services.named("cold"));
        services.sandboxes.stop(alice, "cold");
        for (int i = 0; i < 3; i++) services.metrics.request("GET", "/sandboxes", i == 0 ? 500 : 200);
        var first = history.record();
        assertThat(first.apiRequests()).isEqualTo(3);
        assertThat(first.apiErrors()).isEqualTo(1);
        assertThat(List.of(first.sandboxesHot(), first.sandboxesWarm(), first.sandboxesCold(), first.sandboxesTotal(), first.users()))
                .containsExactly(1, 0, 1, 2, 1);
        assertThat(first.memoryTotalBytes()).isGreaterThan(0);

        services.clock.advance(MetricsHistory.EVERY);
        services.metrics.request("GET", "/sandboxes", 200);
        var second = history.record();
        assertThat(second.apiRequests()).as("since the row before").isEqualTo(1);
        assertThat(second.apiErrors()).isZero();
        assertThat(services.store.metricsSnapshots(Instant.EPOCH, 100)).extracting(r -> r.at())
                .containsExactly(first.at(), second.at());
        assertThat(history.now(second.at()).history()).as("rows since a time").containsExactly(second);
        var now = history.now(Instant.EPOCH);
        assertThat(now.apiRequests()).as("the counters since the start").isEqualTo(4);
        assertThat(now.census().byState()).containsEntry("hot", 1).containsEntry("cold", 1);

        services.clock.advance(MetricsHistory.RETENTION.plusSeconds(1));
        var third = history.record();
        assertThat(services.store.metricsSnapshots(Instant.EPOCH, 100)).as("older than 30 days: dropped").containsExactly(third);
    }

    @Test
    void theMetricsTokenIsTheFirstLineOfItsFileWhenLongEnough() throws Exception {
        var token = new MetricsToken(dir);
        assertThat(token.matches("anything")).as("no file: no token").isFalse();
        Files.writeString(dir.resolve(MetricsToken.FILE), "short\n");
        assertThat(token.matches("short")).as("a guessable token is not accepted").isFalse();
        Files.writeString(dir.resolve(MetricsToken.FILE), "scrape-0123456789abcdef\nsecond line\n");
        assertThat(token.matches("scrape-0123456789abcdef")).isTrue();
        assertThat(token.matches("scrape-0123456789abcdeX")).isFalse();
        assertThat(token.matches(null)).isFalse();
        Files.delete(dir.resolve(MetricsToken.FILE));
        assertThat(token.matches("scrape-0123456789abcdef")).as("removing the file takes effect at once").isFalse();
    }

    @Test
    void hostFilesAreReadAndWhatCannotBeReadIsMinusOne() throws Exception {
        Path loadavg = dir.resolve("loadavg");
        Files.writeString(loadavg, "0.52 0.58 0.59 1/389 12345\n");
        assertThat(HostStats.loadAverages(loadavg)).containsExactly(0.52, 0.58, 0.59);
        assertThat(HostStats.loadAverages(dir.resolve("missing"))).containsExactly(-1, -1, -1);
        Path status = dir.resolve("status");
        Files.writeString(status, "Name:\tqemu-system-x86\nVmPeak:\t 9000 kB\nVmRSS:\t  204800 kB\n");
        assertThat(HostStats.rssBytes(status)).isEqualTo(204800L * 1024);
        assertThat(HostStats.rssBytes(0)).as("no process").isEqualTo(-1);
        assertThat(HostStats.rssBytes(ProcessHandle.current().pid())).isGreaterThan(0);
    }
}

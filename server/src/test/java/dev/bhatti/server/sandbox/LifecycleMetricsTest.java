package dev.bhatti.server.sandbox;

import dev.bhatti.engine.ExecCommand;
import dev.bhatti.engine.ExecListener;
import dev.bhatti.server.metrics.DaemonGauges;
import dev.bhatti.server.metrics.SandboxCensus;
import dev.bhatti.server.store.UserRecord;
import dev.bhatti.server.testing.Services;
import dev.bhatti.testkit.PrometheusText;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The lifecycle's metrics over the real store and the in-memory engine: each transition timed by kind
 * and cause where it happens, each wake by what woke the sandbox, and the sandboxes gauge read at scrape
 * time from the engine's truth.
 */
class LifecycleMetricsTest {
    @TempDir Path dir;
    Services services;
    UserRecord alice;

    @BeforeEach
    void setUp() {
        services = new Services(dir);
        alice = services.user("alice", 5);
        DaemonGauges.register(services.metrics, new SandboxCensus(services.store, services.engine), dir);
    }

    @AfterEach
    void tearDown() { services.close(); }

    Map<String, PrometheusText.Family> scrape() throws Exception {
        var out = new ByteArrayOutputStream();
        services.metrics.write(out);
        return PrometheusText.parse(out.toString(StandardCharsets.UTF_8));
    }

    static ExecCommand command(String... argv) {
        return new ExecCommand(List.of(argv), Map.of(), "", "", Duration.ofSeconds(10), null);
    }

    @Test
    void transitionsAndWakesAreCountedByKindCauseAndWhatWokeTheSandbox() throws Exception {
        var dev = services.sandboxes.create(alice, Services.named("dev")).sandbox();
        services.sandboxes.create(alice, Services.named("idle"));
        services.sandboxes.pause(alice, "dev");
        services.sandboxes.exec(alice, "dev", command("true"), ExecListener.NONE); // wakes it from warm
        services.sandboxes.stop(alice, "dev");
        services.sandboxes.lifecycle().tunnel(SandboxLifecycle.Waker.PROXY, dev.id(), 80, null); // from cold, by the proxy
        var thermal = services.thermal(Duration.ofSeconds(30), Duration.ofMinutes(5));
        services.clock.advance(Duration.ofSeconds(30));
        thermal.cycle(); // both idle: paused by the thermal manager

        var m = scrape();
        var transitions = m.get("bhatti_transition_seconds");
        assertThat(transitions.type()).isEqualTo("histogram");
        assertThat(transitions.value("bhatti_transition_seconds_count", "transition", "pause", "cause", "api")).isEqualTo(1);
        assertThat(transitions.value("bhatti_transition_seconds_count", "transition", "resume", "cause", "wake")).isEqualTo(1);
        assertThat(transitions.value("bhatti_transition_seconds_count", "transition", "stop", "cause", "api")).isEqualTo(1);
        assertThat(transitions.value("bhatti_transition_seconds_count", "transition", "start", "cause", "wake")).isEqualTo(1);
        assertThat(transitions.value("bhatti_transition_seconds_count", "transition", "pause", "cause", "idle")).isEqualTo(2);
        var wakes = m.get("bhatti_wakes_total");
        assertThat(wakes.type()).isEqualTo("counter");
        assertThat(wakes.value("bhatti_wakes_total", "from", "warm", "by", "api")).isEqualTo(1);
        assertThat(wakes.value("bhatti_wakes_total", "from", "cold", "by", "proxy")).isEqualTo(1);
        assertThat(services.metrics.wakesByKind()).containsEntry("warm/api", 1L).containsEntry("cold/proxy", 1L);

        var sandboxes = m.get("bhatti_sandboxes");
        assertThat(sandboxes.type()).isEqualTo("gauge");
        assertThat(sandboxes.value("bhatti_sandboxes", "user", "alice", "state", "warm")).isEqualTo(2);
        assertThat(sandboxes.find("bhatti_sandboxes", "user", "alice", "state", "hot")).as("no series for a state nobody is in").isEmpty();
        assertThat(m.get("bhatti_users").value("bhatti_users")).isEqualTo(1);
        // the in-memory engine names pid 1 as every VM's process: its memory is read from /proc like QEMU's
        assertThat(m.get("bhatti_sandbox_memory_rss_bytes").value("bhatti_sandbox_memory_rss_bytes", "user", "alice", "sandbox", "dev"))
                .isGreaterThan(0);
        assertThat(m.get("bhatti_host_memory_bytes").value("bhatti_host_memory_bytes", "kind", "total")).isGreaterThan(0);
        assertThat(m.get("bhatti_host_load_average").samples()).hasSize(3);
        assertThat(m.get("bhatti_data_disk_bytes").value("bhatti_data_disk_bytes", "kind", "free")).isGreaterThan(0);
    }
}

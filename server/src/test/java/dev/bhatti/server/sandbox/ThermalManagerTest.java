package dev.bhatti.server.sandbox;

import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.VmState;
import dev.bhatti.server.store.SandboxStatus;
import dev.bhatti.server.store.UserRecord;
import dev.bhatti.server.testing.Services;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Where a sandbox goes cold: idle ones cool step by step; busy and keep_hot ones stay; failures back off. */
class ThermalManagerTest {
    static final Duration WARM_AFTER = Duration.ofSeconds(30);
    static final Duration COLD_AFTER = Duration.ofMinutes(5);

    @TempDir Path dir;
    Services services;
    UserRecord alice;
    ThermalManager thermal;

    @BeforeEach
    void setUp() {
        services = new Services(dir);
        alice = services.user("alice", 3);
        thermal = services.thermal(WARM_AFTER, COLD_AFTER);
    }

    @AfterEach
    void tearDown() { services.close(); }

    @Test
    void anIdleSandboxGoesWarmThenCold() {
        var s = services.sandboxes.create(alice, Services.named("dev")).sandbox();
        thermal.cycle();
        assertThat(services.engine.state(s.id())).as("not idle long enough").isEqualTo(VmState.RUNNING);

        services.clock.advance(WARM_AFTER);
        thermal.cycle();
        assertThat(services.engine.state(s.id())).isEqualTo(VmState.PAUSED);
        assertThat(services.store.sandbox(alice.id(), "dev").orElseThrow().status()).as("warm counts as running").isEqualTo(SandboxStatus.RUNNING);

        services.clock.advance(COLD_AFTER.minus(WARM_AFTER));
        thermal.cycle();
        assertThat(services.engine.state(s.id())).isEqualTo(VmState.SUSPENDED);
        assertThat(services.store.sandbox(alice.id(), "dev").orElseThrow().status()).isEqualTo(SandboxStatus.STOPPED);
    }

    @Test
    void aSandboxStillBeingCreatedIsNotCooledHoweverLongItsBootTakes() {
        var s = services.sandboxes.create(alice, Services.named("slow")).sandbox();
        // its create is still under way (a first boot that leaves a template, on a loaded host): the row says starting
        services.store.updateStatus(s.id(), SandboxStatus.STARTING, "");
        services.clock.advance(WARM_AFTER.multipliedBy(3));
        thermal.cycle();
        assertThat(services.engine.state(s.id())).isEqualTo(VmState.RUNNING);
    }

    @Test
    void aSandboxWithWorkUnderWayOrKeptHotIsLeftAlone() {
        var busy = services.sandboxes.create(alice, Services.named("busy")).sandbox();
        var kept = services.sandboxes.create(alice, new SandboxService.CreateRequest("kept", null, null, null, null, null, null, true,
                null, null, null)).sandbox();
        try (var shell = services.sandboxes.busy(busy)) {
            services.clock.advance(COLD_AFTER.multipliedBy(2));
            thermal.cycle();
            thermal.cycle();
            assertThat(services.engine.state(busy.id())).isEqualTo(VmState.RUNNING);
            assertThat(services.engine.state(kept.id())).isEqualTo(VmState.RUNNING);
        }
        // the shell closed just now: idle is counted from there
        thermal.cycle();
        assertThat(services.engine.state(busy.id())).isEqualTo(VmState.RUNNING);
        services.clock.advance(WARM_AFTER);
        thermal.cycle();
        assertThat(services.engine.state(busy.id())).isEqualTo(VmState.PAUSED);
        assertThat(services.engine.state(kept.id())).isEqualTo(VmState.RUNNING);
    }

    @Test
    void aSandboxThatFailsToCoolIsNotTriedAgainAtOnce() {
        var s = services.sandboxes.create(alice, Services.named("dev")).sandbox();
        services.clock.advance(WARM_AFTER);
        services.engine.failNext("pause", EngineException.Kind.FAILED, "QMP did not answer");
        thermal.cycle();
        thermal.cycle();
        assertThat(services.engine.count("pause", s.id())).as("backing off after a failure").isEqualTo(1);
        assertThat(services.engine.state(s.id())).isEqualTo(VmState.RUNNING);
        services.clock.advance(Duration.ofMinutes(1));
        thermal.cycle();
        assertThat(services.engine.state(s.id())).isEqualTo(VmState.PAUSED);
    }

    @Test
    void aRequestAfterCoolingFindsTheSandboxAwake() throws Exception {
        var s = services.sandboxes.create(alice, Services.named("dev")).sandbox();
        services.clock.advance(COLD_AFTER);
        thermal.cycle();
        thermal.cycle();
        assertThat(services.engine.state(s.id())).isEqualTo(VmState.SUSPENDED);
        services.sandboxes.exec(alice, "dev", SandboxServiceTest.cmd("true"), SandboxServiceTest.DISCARD);
        assertThat(services.engine.state(s.id())).isEqualTo(VmState.RUNNING);
        // and the wake counts as use: it is not cooled at the next tick
        thermal.cycle();
        assertThat(services.engine.state(s.id())).isEqualTo(VmState.RUNNING);
    }
}

package dev.bhatti.server.sandbox;

import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.ExecCommand;
import dev.bhatti.engine.ExecListener;
import dev.bhatti.engine.VmSpec;
import dev.bhatti.engine.VmState;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.store.SandboxStatus;
import dev.bhatti.server.store.UserRecord;
import dev.bhatti.server.testing.Services;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The sandbox lifecycle above the engine: creates, quotas, transparent wakes, failures and recovery. */
class SandboxServiceTest {
    @TempDir Path dir;
    Services services;
    UserRecord alice;

    static final ExecListener DISCARD = new ExecListener() {
        @Override public void stdout(byte[] bytes) { }
        @Override public void stderr(byte[] bytes) { }
    };

    static ExecCommand cmd(String... argv) {
        return new ExecCommand(List.of(argv), Map.of(), "", "", Duration.ofSeconds(10), null);
    }

    @BeforeEach
    void setUp() {
        services = new Services(dir);
        alice = services.user("alice", 2);
    }

    @AfterEach
    void tearDown() { services.close(); }

    @Test
    void aCreatedSandboxRunsAndACreateOfTheSameNameFindsIt() {
        var created = services.sandboxes.create(alice, Services.named("dev"));
        assertThat(created.existing()).isFalse();
        assertThat(created.sandbox().status()).isEqualTo(SandboxStatus.RUNNING);
        assertThat(services.store.sandbox(alice.id(), "dev").orElseThrow().status()).isEqualTo(SandboxStatus.RUNNING);
        var again = services.sandboxes.create(alice, Services.named("dev"));
        assertThat(again.existing()).isTrue();
        assertThat(again.sandbox().id()).isEqualTo(created.sandbox().id());
        assertThat(services.engine.count("create", created.sandbox().id())).isEqualTo(1);
    }

    @Test
    void aCreateBeyondTheQuotaIsRefusedWithWhatToDoAndLeavesNothing() {
        services.sandboxes.create(alice, Services.named("one"));
        services.sandboxes.create(alice, Services.named("two"));
        assertThatThrownBy(() -> services.sandboxes.create(alice, Services.named("three")))
                .isInstanceOf(DomainException.LimitReached.class)
                .hasMessageContaining("sandbox limit reached (2 of 2)").hasMessageContaining("destroy a sandbox first");
        assertThat(services.store.sandboxes(alice.id())).hasSize(2);
        assertThat(services.engine.calls).filteredOn(c -> c.startsWith("create")).hasSize(2);
    }

    @Test
    void aBootThatFailsLeavesNoRowAndSaysWhy() {
        services.engine.failNext("create", EngineException.Kind.FAILED, "boot failed: kernel panic");
        assertThatThrownBy(() -> services.sandboxes.create(alice, Services.named("dev")))
                .isInstanceOf(DomainException.Failed.class).hasMessageContaining("kernel panic");
        assertThat(services.store.sandboxes(alice.id())).isEmpty();
        assertThat(services.store.events(new dev.bhatti.server.store.EventRecord.Filter("sandbox.create_failed", "", "", java.time.Instant.EPOCH, 10)))
                .hasSize(1);
    }

    @Test
    void theCreatesConfigurationReachesTheGuestBeforeTheSandboxIsHandedOver() {
        var req = new SandboxService.CreateRequest("dev", null, null, null, Map.of("GREETING", "hi"), null, null, null, null, null, null);
        var s = services.sandboxes.create(alice, req).sandbox();
        assertThat(services.engine.guestFile(s.id(), BootConfig.ENVIRON)).hasValueSatisfying(v -> assertThat(v).contains("GREETING=hi"));
    }

    @Test
    void aDiskExportFlushesTheGuestFirstAndLeavesAWarmOrColdSandboxAsItWas() throws Exception {
        var s = services.sandboxes.create(alice, Services.named("dev")).sandbox();
        Path target = Files.createTempFile("export", ".ext4");
        try {
            services.engine.pause(s.id());
            services.engine.calls.clear();
            services.sandboxes.exportDisk(s, target);
            // the guest's latest writes are in its memory: woken, flushed (sync), copied, paused again
            assertThat(services.engine.calls).containsExactly("resume " + s.id(), "exec " + s.id(), "exportDisk " + s.id(), "pause " + s.id());
            assertThat(services.engine.state(s.id())).isEqualTo(VmState.PAUSED);
            assertThat(services.store.sandbox(alice.id(), "dev").orElseThrow().status()).as("a warm sandbox is running").isEqualTo(SandboxStatus.RUNNING);

            services.sandboxes.stop(alice, "dev");
            services.engine.calls.clear();
            services.sandboxes.exportDisk(s, target);
            assertThat(services.engine.calls).containsExactly("start " + s.id(), "exec " + s.id(), "exportDisk " + s.id(), "suspend " + s.id());
            assertThat(services.store.sandbox(alice.id(), "dev").orElseThrow().status()).isEqualTo(SandboxStatus.STOPPED);
            assertThat(Files.readString(target)).isEqualTo("disk of " + s.id());
        } finally {
            Files.deleteIfExists(target);
        }
    }

    @Test
    void aRequestToAWarmSandboxResumesItAndToAColdOneRestoresIt() throws Exception {
        var s = services.sandboxes.create(alice, Services.named("dev")).sandbox();
        services.engine.pause(s.id());
        assertThat(services.sandboxes.exec(alice, "dev", cmd("true"), DISCARD).exitCode()).isZero();
        assertThat(services.engine.count("resume", s.id())).isEqualTo(1);
        assertThat(services.engine.state(s.id())).isEqualTo(VmState.RUNNING);

        services.sandboxes.stop(alice, "dev");
        assertThat(services.store.sandbox(alice.id(), "dev").orElseThrow().status()).isEqualTo(SandboxStatus.STOPPED);
        assertThat(services.sandboxes.exec(alice, "dev", cmd("true"), DISCARD).exitCode()).isZero();
        assertThat(services.engine.count("start", s.id())).as("a cold sandbox is restored by the request").isEqualTo(1);
        assertThat(services.store.sandbox(alice.id(), "dev").orElseThrow().status()).isEqualTo(SandboxStatus.RUNNING);
    }

    @Test
    void concurrentRequestsToAColdSandboxWakeItOnce() throws Exception {
        var s = services.sandboxes.create(alice, Services.named("dev")).sandbox();
        services.sandboxes.stop(alice, "dev");
        int n = 8;
        var ready = new CountDownLatch(n);
        try (var pool = Executors.newFixedThreadPool(n)) {
            var results = new java.util.ArrayList<Future<Integer>>();
            for (int i = 0; i < n; i++) {
                results.add(pool.submit(() -> {
                    ready.countDown();
                    ready.await();
                    return services.sandboxes.exec(alice, "dev", cmd("true"), DISCARD).exitCode();
                }));
            }
            for (var r : results) assertThat(r.get()).isZero();
        }
        assertThat(services.engine.count("start", s.id())).isEqualTo(1);
        assertThat(services.engine.count("exec", s.id())).isEqualTo(n);
    }

    @Test
    void anExecOnACrashedSandboxIsAConflictThatSaysHowToStartIt() {
        var s = services.sandboxes.create(alice, Services.named("dev")).sandbox();
        services.engine.crash(s.id(), "the VM process ended with code 137");
        assertThat(services.store.sandbox(alice.id(), "dev").orElseThrow().status()).as("the engine's report is stored").isEqualTo(SandboxStatus.ERROR);
        assertThatThrownBy(() -> services.sandboxes.exec(alice, "dev", cmd("true"), DISCARD))
                .isInstanceOf(DomainException.Conflict.class)
                .hasMessageContaining("is not running").hasMessageContaining("code 137").hasMessageContaining("bhatti start dev");
        assertThat(services.engine.count("exec", s.id())).isZero();
    }

    @Test
    void aReadShowsWhatTheVmIsWithoutWritingIt() throws Exception {
        var s = services.sandboxes.create(alice, Services.named("dev")).sandbox();
        services.engine.suspend(s.id()); // behind the service's back: only a read looks
        assertThat(services.sandboxes.get(alice, "dev").status()).isEqualTo(SandboxStatus.STOPPED);
        assertThat(services.sandboxes.list(alice)).extracting(r -> r.status()).containsExactly(SandboxStatus.STOPPED);
        assertThat(services.store.sandbox(alice.id(), "dev").orElseThrow().status()).as("the row is the last transition's").isEqualTo(SandboxStatus.RUNNING);
        services.sandboxes.start(alice, "dev", false);
        assertThat(services.store.sandbox(alice.id(), "dev").orElseThrow().status()).isEqualTo(SandboxStatus.RUNNING);
        assertThat(services.engine.count("start", s.id())).isEqualTo(1);
    }

    @Test
    void anotherUsersSandboxIsNotFound() {
        services.sandboxes.create(alice, Services.named("dev"));
        var bob = services.user("bob", 2);
        assertThatThrownBy(() -> services.sandboxes.get(bob, "dev")).isInstanceOf(DomainException.NotFound.class);
        assertThatThrownBy(() -> services.sandboxes.exec(bob, "dev", cmd("true"), DISCARD)).isInstanceOf(DomainException.NotFound.class);
        assertThatThrownBy(() -> services.sandboxes.destroy(bob, "dev")).isInstanceOf(DomainException.NotFound.class);
        assertThat(services.engine.calls).noneMatch(c -> c.startsWith("destroy"));
    }

    @Test
    void recoveryUndoesUnfinishedCreatesAndDestroysAndAdoptsTheRest() throws Exception {
        var running = services.sandboxes.create(alice, Services.named("running")).sandbox();
        var gone = services.sandboxes.create(alice, Services.named("gone")).sandbox();
        var half = new dev.bhatti.server.store.SandboxRecord("cccc000000000001", alice.id(), "half", SandboxStatus.STARTING, "", 1, 512, "minimal",
                "memory", "tcg", java.time.Instant.now(), false);
        services.store.insertSandbox(half, alice);
        // what the next daemon finds: one VM still running, one whose files a destroy removed, one create cut short
        services.engine.leftByLastDaemon(new VmSpec(running.id(), "running", 1, 512, "minimal"), VmState.SUSPENDED);
        services.engine.destroy(gone.id());

        services.sandboxes.recover();

        assertThat(services.store.sandbox(alice.id(), "half")).as("an unfinished create is undone").isEmpty();
        assertThat(services.store.sandbox(alice.id(), "gone")).as("a destroy cut short is finished").isEmpty();
        assertThat(services.store.sandbox(alice.id(), "running").orElseThrow().status()).isEqualTo(SandboxStatus.STOPPED);
        assertThat(services.engine.count("adopt", running.id())).isEqualTo(1);
    }
}

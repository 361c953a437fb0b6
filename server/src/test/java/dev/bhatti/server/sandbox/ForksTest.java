package dev.bhatti.server.sandbox;

import dev.bhatti.engine.EngineException.Kind;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.store.SandboxStatus;
import dev.bhatti.server.store.UserRecord;
import dev.bhatti.server.testing.Services;
import dev.bhatti.server.volume.VolumeAttachments;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Forks' bookkeeping: the temporary snapshot never stays or shows, and every refusal comes before any copy. */
class ForksTest {
    @TempDir Path dir;
    Services services;
    UserRecord alice;

    @BeforeEach
    void setUp() {
        services = new Services(dir);
        alice = services.user("alice", 3);
        services.sandboxes.create(alice, Services.named("dev"));
    }

    @AfterEach
    void tearDown() { services.close(); }

    static SandboxService.CreateRequest from(String name, String source) {
        return new SandboxService.CreateRequest(name, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, source);
    }

    private long checkpoints() { return services.engine.calls.stream().filter(c -> c.startsWith("checkpoint ")).count(); }

    @Test
    void aForkIsANewRunningSandboxAndLeavesNoSnapshot() {
        var fork = services.snapshots.fork(alice, from("try-2", "dev")).sandbox();
        assertThat(fork.name()).isEqualTo("try-2");
        assertThat(fork.status()).isEqualTo(SandboxStatus.RUNNING);
        assertThat(services.engine.count("createFromSnapshot", fork.id())).isEqualTo(1);
        assertThat(services.store.snapshots(alice.id())).isEmpty();
        assertThat(services.engine.snapshots()).isEmpty();
        assertThat(services.sandboxes.get(alice, "dev").status()).isEqualTo(SandboxStatus.RUNNING);
        var named = services.snapshots.fork(alice, from(null, "dev")).sandbox();
        assertThat(named.name()).startsWith("dev-");
    }

    @Test
    void aFailedForkLeavesNoSnapshotAndNoSandbox() {
        services.engine.failNext("createFromSnapshot", Kind.FAILED, "boom");
        assertThatThrownBy(() -> services.snapshots.fork(alice, from("try-2", "dev"))).isInstanceOf(DomainException.class);
        assertThat(services.store.snapshots(alice.id())).isEmpty();
        assertThat(services.engine.snapshots()).isEmpty();
        assertThat(services.sandboxes.list(alice)).extracting(s -> s.name()).containsExactly("dev");
    }

    @Test
    void refusalsComeBeforeAnyCopy() {
        assertThatThrownBy(() -> services.snapshots.fork(alice, from("x", "nosuch"))).isInstanceOf(DomainException.NotFound.class);
        var cpus = new SandboxService.CreateRequest("x", 2.0, null, null, null, null, null, null, null, null, null, null, null, null, null, null, "dev");
        assertThatThrownBy(() -> services.snapshots.fork(alice, cpus)).isInstanceOf(DomainException.Invalid.class).hasMessageContaining("cpus");
        var env = new SandboxService.CreateRequest("x", null, null, null, Map.of("A", "b"), null, null, null, null, null, null, null, null, null, null, null, "dev");
        assertThatThrownBy(() -> services.snapshots.fork(alice, env)).isInstanceOf(DomainException.Invalid.class).hasMessageContaining("env");
        assertThatThrownBy(() -> services.snapshots.fork(alice, from("dev", "dev"))).isInstanceOf(DomainException.Conflict.class);

        services.volumes.create(alice, "data", 16);
        services.sandboxes.create(alice, new SandboxService.CreateRequest("writer", null, null, null, null, null, null, null, null, null, null,
                null, null, List.of(new VolumeAttachments.Requested("data", "/data", false))));
        assertThatThrownBy(() -> services.snapshots.fork(alice, from("w2", "writer")))
                .isInstanceOf(DomainException.Conflict.class).hasMessageContaining("read-write");

        services.sandboxes.create(alice, Services.named("third")); // alice's limit is 3
        assertThatThrownBy(() -> services.snapshots.fork(alice, from("fourth", "dev")))
                .isInstanceOf(DomainException.LimitReached.class).hasMessageContaining("sandbox limit");
        assertThat(checkpoints()).isZero();
        assertThat(services.store.snapshots(alice.id())).isEmpty();
    }

    @Test
    void aFilesystemSnapshotHasItsTypeAndAnUnknownTypeIsRefused() {
        var fs = services.snapshots.create(alice, "dev", "fs1", "filesystem");
        assertThat(fs.type()).isEqualTo("filesystem");
        assertThat(services.snapshots.get(alice, "fs1").type()).isEqualTo("filesystem");
        assertThat(services.snapshots.create(alice, "dev", "mem").type()).isEqualTo("memory");
        assertThatThrownBy(() -> services.snapshots.create(alice, "dev", "bad", "disk")).isInstanceOf(DomainException.Invalid.class);
        var resumed = services.snapshots.resume(alice, "fs1", "fs-1").sandbox();
        assertThat(resumed.status()).isEqualTo(SandboxStatus.RUNNING);
    }
}

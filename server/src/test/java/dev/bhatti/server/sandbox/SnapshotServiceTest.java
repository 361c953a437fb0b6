package dev.bhatti.server.sandbox;

import dev.bhatti.engine.VmSpec;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.store.SnapshotRecord;
import dev.bhatti.server.store.SandboxStatus;
import dev.bhatti.server.store.UserRecord;
import dev.bhatti.server.testing.Services;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Named snapshots' bookkeeping: rows and files agree, quotas hold, a crash's leftovers go at the next start. */
class SnapshotServiceTest {
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

    @Test
    void aSnapshotIsReadyWithItsSizeAndResumesAsANewSandbox() {
        var snap = services.snapshots.create(alice, "dev", "pre");
        assertThat(snap.status()).isEqualTo("ready");
        assertThat(snap.sizeBytes()).isEqualTo(services.engine.snapshotBytes);
        assertThat(services.engine.snapshots()).containsExactly(snap.id());
        var clone = services.snapshots.resume(alice, "pre", "clone").sandbox();
        assertThat(clone.status()).isEqualTo(SandboxStatus.RUNNING);
        assertThat(services.engine.count("createFromSnapshot", clone.id())).isEqualTo(1);
        assertThatThrownBy(() -> services.snapshots.create(alice, "dev", "pre")).isInstanceOf(DomainException.Conflict.class);
    }

    @Test
    void theSnapshotQuotasHoldAndARefusalLeavesNoFiles() {
        for (String name : new String[]{"a", "b", "c"}) services.snapshots.create(alice, "dev", name);
        assertThatThrownBy(() -> services.snapshots.create(alice, "dev", "d"))
                .isInstanceOf(DomainException.LimitReached.class).hasMessageContaining("snapshot limit reached (3)");
        services.snapshots.delete(alice, "a");
        services.engine.snapshotBytes = 21L << 30; // beyond the user's 20 GB of snapshot storage
        assertThatThrownBy(() -> services.snapshots.create(alice, "dev", "big"))
                .isInstanceOf(DomainException.LimitReached.class).hasMessageContaining("storage limit reached");
        assertThat(services.store.snapshots(alice.id())).extracting(SnapshotRecord::name).containsExactlyInAnyOrder("b", "c");
        assertThat(services.engine.snapshots()).hasSize(2);
    }

    @Test
    void atStartUnfinishedSnapshotsAndFilesNoRowNamesAreRemoved() {
        var kept = services.snapshots.create(alice, "dev", "kept");
        var unfinished = new SnapshotRecord("dddd000000000001", alice.id(), "half", "creating", "x", "dev", 1, 512, "minimal", 0, Instant.now());
        services.store.insertSnapshot(unfinished, 10);
        services.engine.orphanSnapshot("eeee000000000001", new VmSpec("eeee000000000001", "x", 1, 512, "minimal"));

        services.snapshots.reconcile();

        assertThat(services.store.snapshots(alice.id())).extracting(SnapshotRecord::name).containsExactly("kept");
        assertThat(services.engine.snapshots()).containsExactly(kept.id());
    }
}

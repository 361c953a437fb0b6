package dev.bhatti.server;

import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.SqliteStore;
import dev.bhatti.server.store.UserRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class SqliteStoreTest {

    @TempDir Path dir;

    @Test
    void schemaIsVersionedAndSurvivesReopening() {
        Path db = dir.resolve("state.db");
        try (var store = SqliteStore.open(db)) {
            assertThat(store.schemaVersion()).isEqualTo(2);
            store.insertUser(new UserRecord("usr_1", "alice", "h1", 5, 4, 4096, Instant.now()));
        }
        try (var store = SqliteStore.open(db)) {
            assertThat(store.schemaVersion()).isEqualTo(2);
            assertThat(store.userByName("alice")).isPresent();
            assertThat(store.userByKeyHash("h1")).isPresent();
        }
    }

    @Test
    void sandboxNamesAreUniquePerUserAndScopedToTheirOwner() {
        try (var store = SqliteStore.open(dir.resolve("s.db"))) {
            store.insertUser(new UserRecord("u1", "alice", "h1", 5, 4, 4096, Instant.now()));
            store.insertUser(new UserRecord("u2", "bob", "h2", 5, 4, 4096, Instant.now()));
            var a = new SandboxRecord("id1", "u1", "dev", "running", "", 1, 512, "minimal", "qemu", "tcg", Instant.now(), false);
            assertThat(store.insertSandbox(a)).isTrue();
            assertThat(store.insertSandbox(new SandboxRecord("id2", "u1", "dev", "running", "", 1, 512, "minimal", "qemu", "tcg", Instant.now(), false)))
                    .as("same user, same name").isFalse();
            assertThat(store.insertSandbox(new SandboxRecord("id3", "u2", "dev", "running", "", 1, 512, "minimal", "qemu", "tcg", Instant.now(), false)))
                    .as("another user may use the name").isTrue();
            assertThat(store.sandbox("u1", "dev").orElseThrow().id()).isEqualTo("id1");
            assertThat(store.sandbox("u1", "id1")).isPresent();
            assertThat(store.sandbox("u2", "id1")).as("other users' ids are invisible").isEmpty();
            assertThat(store.sandbox("u1", "dev").orElseThrow().keepHot()).isFalse();
            store.updateKeepHot("id1", true);
            assertThat(store.sandboxById("id1").orElseThrow().keepHot()).isTrue();
            store.updateStatus("id1", "error", "died");
            assertThat(store.sandbox("u1", "dev").orElseThrow().detail()).isEqualTo("died");
            store.deleteSandbox("id1");
            assertThat(store.countSandboxes("u1")).isZero();
        }
    }
}

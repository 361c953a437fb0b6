package dev.bhatti.server;

import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.SandboxStatus;
import dev.bhatti.server.store.SnapshotRecord;
import dev.bhatti.server.store.SqliteStore;
import dev.bhatti.server.store.Store;
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
            assertThat(store.schemaVersion()).isEqualTo(14);
            store.insertUser(new UserRecord("usr_1", "alice", "h1", 5, 4, 4096, 5, 20480, Instant.now()));
        }
        try (var store = SqliteStore.open(db)) {
            assertThat(store.schemaVersion()).isEqualTo(14);
            assertThat(store.userByName("alice")).isPresent();
            assertThat(store.userByKeyHash("h1")).isPresent();
        }
    }

    @Test
    void sandboxNamesAreUniquePerUserAndScopedToTheirOwner() {
        try (var store = SqliteStore.open(dir.resolve("s.db"))) {
            store.insertUser(new UserRecord("u1", "alice", "h1", 5, 4, 4096, 5, 20480, Instant.now()));
            store.insertUser(new UserRecord("u2", "bob", "h2", 5, 4, 4096, 5, 20480, Instant.now()));
            var a = new SandboxRecord("id1", "u1", "dev", SandboxStatus.RUNNING, "", 1, 512, "minimal", "qemu", "tcg", Instant.now(), false);
            var alice = store.userByName("alice").orElseThrow();
            var bob = store.userByName("bob").orElseThrow();
            assertThat(store.insertSandbox(a, alice)).isEqualTo(Store.Insert.INSERTED);
            assertThat(store.insertSandbox(new SandboxRecord("id2", "u1", "dev", SandboxStatus.RUNNING, "", 1, 512, "minimal", "qemu", "tcg", Instant.now(), false), alice))
                    .as("same user, same name").isEqualTo(Store.Insert.NAME_TAKEN);
            assertThat(store.insertSandbox(new SandboxRecord("id3", "u2", "dev", SandboxStatus.RUNNING, "", 1, 512, "minimal", "qemu", "tcg", Instant.now(), false), bob))
                    .as("another user may use the name").isEqualTo(Store.Insert.INSERTED);
            assertThat(store.sandbox("u1", "dev").orElseThrow().id()).isEqualTo("id1");
            assertThat(store.sandbox("u1", "id1")).isPresent();
            assertThat(store.sandbox("u2", "id1")).as("other users' ids are invisible").isEmpty();
            assertThat(store.sandbox("u1", "dev").orElseThrow().keepHot()).isFalse();
            store.updateKeepHot("id1", true);
            assertThat(store.sandboxById("id1").orElseThrow().keepHot()).isTrue();
            store.updateStatus("id1", SandboxStatus.ERROR, "died");
            assertThat(store.sandbox("u1", "dev").orElseThrow().detail()).isEqualTo("died");
            store.deleteSandbox("id1");
            assertThat(store.usage("u1").sandboxes()).isZero();
        }
    }

    @Test
    void snapshotNamesAreUniquePerUserAndTheCapHolds() {
        try (var store = SqliteStore.open(dir.resolve("snap.db"))) {
            store.insertUser(new UserRecord("u1", "alice", "h1", 5, 4, 4096, 2, 20480, Instant.now()));
            store.insertUser(new UserRecord("u2", "bob", "h2", 5, 4, 4096, 2, 20480, Instant.now()));
            assertThat(store.insertSnapshot(snap("s1", "u1", "pre"), 2)).isTrue();
            assertThat(store.insertSnapshot(snap("s2", "u1", "pre"), 2)).as("same user, same name").isFalse();
            assertThat(store.insertSnapshot(snap("s3", "u2", "pre"), 2)).as("another user may use the name").isTrue();
            assertThat(store.insertSnapshot(snap("s4", "u1", "post"), 2)).isTrue();
            assertThat(store.insertSnapshot(snap("s5", "u1", "third"), 2)).as("the cap counts every row").isFalse();
            assertThat(store.countSnapshots("u1")).isEqualTo(2);
            assertThat(store.snapshot("u1", "pre").orElseThrow().status()).isEqualTo("creating");
            store.markSnapshotReady("s1", 1234);
            var ready = store.snapshot("u1", "s1").orElseThrow();
            assertThat(ready.status()).isEqualTo("ready");
            assertThat(ready.sizeBytes()).isEqualTo(1234);
            assertThat(store.snapshot("u2", "s1")).as("other users' snapshots are invisible").isEmpty();
            assertThat(store.snapshots("u1")).extracting(SnapshotRecord::name).containsExactly("pre", "post");
            store.deleteSnapshot("s1");
            assertThat(store.insertSnapshot(snap("s6", "u1", "third"), 2)).as("a deleted one frees its place").isTrue();
        }
    }

    private static SnapshotRecord snap(String id, String user, String name) {
        Instant at = Instant.parse("2026-01-01T00:00:00Z").plusSeconds(Integer.parseInt(id.substring(1)));
        return new SnapshotRecord(id, user, name, "creating", "sb1", "dev", 1, 256, "minimal", 0, at);
    }

    @Test
    void twentyConcurrentCreatesAgainstACapOfFiveMakeExactlyFive() throws Exception {
        try (var store = SqliteStore.open(dir.resolve("q.db"))) {
            var alice = new UserRecord("u1", "alice", "h1", 5, 100, 100_000, 5, 20480, Instant.now());
            store.insertUser(alice);
            var inserted = new java.util.concurrent.atomic.AtomicInteger();
            var threads = new java.util.ArrayList<Thread>();
            var start = new java.util.concurrent.CountDownLatch(1);
            for (int i = 0; i < 20; i++) {
                int n = i;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    if (store.insertSandbox(sandbox("id" + n, "sb" + n, 1, 256), alice) == Store.Insert.INSERTED) inserted.incrementAndGet();
                }));
            }
            start.countDown();
            for (Thread t : threads) t.join();
            assertThat(inserted.get()).isEqualTo(5);
            assertThat(store.usage("u1")).isEqualTo(new Store.Usage(5, 5, 1280));
        }
    }

    @Test
    void totalVcpusAndMemoryAreCappedToo() {
        try (var store = SqliteStore.open(dir.resolve("c.db"))) {
            var alice = new UserRecord("u1", "alice", "h1", 10, 4, 1024, 5, 20480, Instant.now());
            store.insertUser(alice);
            assertThat(store.insertSandbox(sandbox("a", "a", 3, 256), alice)).isEqualTo(Store.Insert.INSERTED);
            assertThat(store.insertSandbox(sandbox("b", "b", 2, 256), alice)).as("3 + 2 > 4 vCPUs").isEqualTo(Store.Insert.OVER_LIMIT);
            assertThat(store.insertSandbox(sandbox("c", "c", 1, 1024), alice)).as("256 + 1024 > 1024 MB").isEqualTo(Store.Insert.OVER_LIMIT);
            assertThat(store.insertSandbox(sandbox("d", "d", 1, 768), alice)).as("exactly at both caps").isEqualTo(Store.Insert.INSERTED);
            assertThat(store.sandboxes("u1")).hasSize(2);
        }
    }

    private static SandboxRecord sandbox(String id, String name, int cpus, int memoryMb) {
        return new SandboxRecord(id, "u1", name, SandboxStatus.STARTING, "", cpus, memoryMb, "minimal", "qemu", "tcg", Instant.now(), false);
    }

    @Test
    void eventsAreListedNewestFirstAndFiltered() {
        try (var store = SqliteStore.open(dir.resolve("e.db"))) {
            Instant t = Instant.parse("2026-01-01T00:00:00Z");
            store.recordEvent(new dev.bhatti.server.store.EventRecord(0, t, "sandbox.create", "alice", "dev", ""));
            store.recordEvent(new dev.bhatti.server.store.EventRecord(0, t.plusSeconds(60), "sandbox.destroy", "alice", "dev", ""));
            store.recordEvent(new dev.bhatti.server.store.EventRecord(0, t.plusSeconds(120), "auth.failed", "", "", "from 127.0.0.1"));
            store.recordEvent(new dev.bhatti.server.store.EventRecord(0, t.plusSeconds(180), "sandbox_x", "bob", "", ""));
            var all = store.events(new dev.bhatti.server.store.EventRecord.Filter("", "", "", t, 50));
            assertThat(all).extracting(dev.bhatti.server.store.EventRecord::type)
                    .containsExactly("sandbox_x", "auth.failed", "sandbox.destroy", "sandbox.create");
            assertThat(store.events(new dev.bhatti.server.store.EventRecord.Filter("sandbox.", "", "", t, 50))).as("a prefix, not a pattern").hasSize(2);
            assertThat(store.events(new dev.bhatti.server.store.EventRecord.Filter("", "bob", "", t, 50))).hasSize(1);
            assertThat(store.events(new dev.bhatti.server.store.EventRecord.Filter("", "", "dev", t.plusSeconds(30), 50))).hasSize(1);
            assertThat(store.events(new dev.bhatti.server.store.EventRecord.Filter("", "", "", t, 2))).hasSize(2);
            assertThat(store.deleteEventsBefore(t.plusSeconds(90))).as("retention").isEqualTo(2);
            assertThat(store.events(new dev.bhatti.server.store.EventRecord.Filter("", "", "", t, 50))).hasSize(2);
        }
    }

    @Test
    void subnetsArePickedLowestFirstWithinTheCapacityAndFreedWithTheirUser() {
        try (var store = SqliteStore.open(dir.resolve("net.db"))) {
            for (String u : java.util.List.of("u1", "u2", "u3")) {
                store.insertUser(new UserRecord(u, "n" + u, "h" + u, 5, 4, 4096, 5, 20480, Instant.now()));
            }
            assertThat(store.assignSubnet("u1", 2)).contains(0);
            assertThat(store.assignSubnet("u1", 2)).as("idempotent").contains(0);
            assertThat(store.assignSubnet("u2", 2)).contains(1);
            assertThat(store.assignSubnet("u3", 2)).as("the pool is full").isEmpty();
            store.deleteUser("u1");
            assertThat(store.assignSubnet("u3", 2)).as("a deleted user's index is free again").contains(0);
        }
    }

    @Test
    void publishRulesAreUniqueByAliasAndBySandboxPort() {
        try (var store = SqliteStore.open(dir.resolve("pub.db"))) {
            store.insertUser(new UserRecord("u1", "alice", "h1", 5, 4, 4096, 5, 20480, Instant.now()));
            var s = new SandboxRecord("id1", "u1", "dev", SandboxStatus.RUNNING, "", 1, 512, "minimal", "qemu", "tcg", Instant.now(), false);
            store.insertSandbox(s, store.userByName("alice").orElseThrow());
            var now = Instant.now();
            assertThat(store.insertPublish(new dev.bhatti.server.store.PublishRecord("p1", "u1", "id1", 3000, "web", now)))
                    .isEqualTo(dev.bhatti.server.store.Store.PublishInsert.INSERTED);
            assertThat(store.insertPublish(new dev.bhatti.server.store.PublishRecord("p2", "u1", "id1", 3000, "web2", now)))
                    .isEqualTo(dev.bhatti.server.store.Store.PublishInsert.PORT_PUBLISHED);
            assertThat(store.insertPublish(new dev.bhatti.server.store.PublishRecord("p3", "u1", "id1", 4000, "web", now)))
                    .isEqualTo(dev.bhatti.server.store.Store.PublishInsert.ALIAS_TAKEN);
            assertThat(store.publishByAlias("web")).map(dev.bhatti.server.store.PublishRecord::port).contains(3000);
            store.deleteSandbox("id1");
            assertThat(store.publishByAlias("web")).as("rules go with their sandbox").isEmpty();
        }
    }
}

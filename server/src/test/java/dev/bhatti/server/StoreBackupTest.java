package dev.bhatti.server;

import dev.bhatti.server.store.EventRecord;
import dev.bhatti.server.store.SqliteStore;
import dev.bhatti.server.store.StoreBackup;
import dev.bhatti.server.store.UserRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code bhatti admin backup}: a consistent copy of a store that is being written, and every refusal. */
class StoreBackupTest {
    @TempDir Path dir;

    @Test
    void aCopyTakenWhileTransactionsCommitHoldsWholeTransactionsOnly() throws Exception {
        Path db = dir.resolve("state.db");
        try (var store = SqliteStore.open(db)) {
            store.insertUser(new UserRecord("usr_1", "alice", "h1", 5, 4, 4096, 5, 20480, Instant.now()));
            String filler = "x".repeat(2000);
            for (int i = 0; i < 1000; i++) store.recordEvent(new EventRecord(0, Instant.now(), "filler", "", "", filler)); // a few MB to copy
        }
        // another connection writes pairs of events, one transaction per pair, until the copy is done (as the daemon would)
        var stop = new AtomicBoolean();
        var pairs = new AtomicLong();
        var failure = new AtomicReference<Throwable>();
        var writing = new CountDownLatch(1);
        Thread writer = Thread.ofPlatform().start(() -> {
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db)) {
                c.createStatement().execute("PRAGMA busy_timeout=5000");
                c.setAutoCommit(false);
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO events (at, type, detail) VALUES (?, ?, '')")) {
                    for (int i = 0; i < 200_000 && !stop.get(); i++) {
                        for (String half : new String[] {"pair.a", "pair.b"}) {
                            ps.setString(1, Instant.now().toString());
                            ps.setString(2, half);
                            ps.executeUpdate();
                        }
                        c.commit();
                        if (pairs.incrementAndGet() == 50) writing.countDown();
                    }
                }
            } catch (Throwable t) {
                failure.set(t);
            } finally {
                writing.countDown();
            }
        });
        writing.await();
        long before = pairs.get();
        StoreBackup.Copy copy;
        try {
            copy = StoreBackup.copy(db, Files.createDirectory(dir.resolve("backups")).resolve("state-copy.db"), false);
        } finally {
            stop.set(true);
            writer.join();
        }
        assertThat(failure.get()).isNull();
        long after = pairs.get();

        Path file = dir.resolve("backups/state-copy.db");
        assertThat(copy.file()).isEqualTo(file);
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(copy.rows()).containsEntry("users", 1L);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); var s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("PRAGMA journal_mode")) {
                assertThat(rs.getString(1)).as("one self-contained file").isEqualTo("delete");
            }
            long a = count(s, "SELECT COUNT(*) FROM events WHERE type = 'pair.a'");
            long b = count(s, "SELECT COUNT(*) FROM events WHERE type = 'pair.b'");
            assertThat(a).as("no transaction cut in half").isEqualTo(b);
            assertThat(a).as("the pairs committed before the copy, and at most those committed until it ended").isBetween(before, after);
            assertThat(count(s, "SELECT COUNT(*) FROM events WHERE type = 'filler'")).isEqualTo(1000);
        }
        try (var copied = SqliteStore.open(file)) {
            assertThat(copied.userByName("alice")).isPresent();
            assertThat(copied.schemaVersion()).isEqualTo(copy.schemaVersion());
        }
        try (var files = Files.list(dir.resolve("backups"))) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("."))).as("no temporary file left").isEmpty();
        }
    }

    @Test
    void anExistingFileIsReplacedOnlyWhenForcedAndBadTargetsAreNamed() throws Exception {
        Path db = dir.resolve("state.db");
        try (var store = SqliteStore.open(db)) {
            store.insertUser(new UserRecord("usr_1", "alice", "h1", 5, 4, 4096, 5, 20480, Instant.now()));
        }
        Path target = dir.resolve("copy.db");
        Files.writeString(target, "precious");
        assertThatThrownBy(() -> StoreBackup.copy(db, target, false)).hasMessageContaining("exists").hasMessageContaining("--force");
        assertThat(Files.readString(target)).isEqualTo("precious");
        var copy = StoreBackup.copy(db, target, true);
        assertThat(copy.rows()).containsEntry("users", 1L);
        assertThat(Files.getPosixFilePermissions(target)).isEqualTo(PosixFilePermissions.fromString("rw-------"));

        assertThatThrownBy(() -> StoreBackup.copy(db, dir.resolve("nope/copy.db"), false))
                .hasMessageContaining("the directory " + dir.resolve("nope") + " does not exist").hasMessageContaining("mkdir -p");
        assertThatThrownBy(() -> StoreBackup.copy(db, dir, true)).hasMessageContaining("is a directory");
        Files.writeString(dir.resolve("file"), "");
        assertThatThrownBy(() -> StoreBackup.copy(db, dir.resolve("file/copy.db"), false)).hasMessageContaining("is not a directory");
        assertThatThrownBy(() -> StoreBackup.copy(dir.resolve("missing/state.db"), dir.resolve("x.db"), false))
                .hasMessageContaining("no bhatti store at");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("."))).as("no temporary file left").isEmpty();
        }
    }

    static long count(java.sql.Statement s, String sql) throws Exception {
        try (ResultSet rs = s.executeQuery(sql)) {
            return rs.getLong(1);
        }
    }
}

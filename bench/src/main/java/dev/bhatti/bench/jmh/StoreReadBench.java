package dev.bhatti.bench.jmh;

import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.SandboxStatus;
import dev.bhatti.server.store.SqliteStore;
import dev.bhatti.server.store.UserRecord;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** SqliteStore reads on a temporary database with one user and 20 sandboxes: what every API request does. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class StoreReadBench {
    private Path dir;
    private SqliteStore store;
    private static final String USER = "u0000000000000001";
    private static final String KEY_HASH = "a".repeat(64);

    @Setup
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("bhatti-jmh-store");
        store = SqliteStore.open(dir.resolve("bhatti.db"));
        var user = new UserRecord(USER, "admin", KEY_HASH, 100, 100, 100_000, 5, 100_000, Instant.now());
        store.insertUser(user);
        for (int i = 0; i < 20; i++) {
            store.insertSandbox(new SandboxRecord("sb" + i + "0123456789abcd", USER, "dev-" + i, SandboxStatus.RUNNING, "", 1, 512,
                    "minimal", "qemu", "tcg", Instant.now(), false), user);
        }
    }

    @TearDown
    public void tearDown() throws IOException {
        store.close();
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) Files.deleteIfExists(p);
        }
        Files.deleteIfExists(dir);
    }

    @Benchmark public Optional<UserRecord> userByKeyHash() { return store.userByKeyHash(KEY_HASH); }

    @Benchmark public Optional<SandboxRecord> sandboxByName() { return store.sandbox(USER, "dev-10"); }

    @Benchmark public List<SandboxRecord> listSandboxes20() { return store.sandboxes(USER); }
}

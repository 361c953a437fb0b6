package dev.bhatti.server;

import dev.bhatti.server.auth.UserAdmin;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.SandboxStatus;
import dev.bhatti.server.store.SqliteStore;
import dev.bhatti.server.store.SnapshotRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Users on one daemon (real Jetty, SQLite and engine; no VM is booted): keys, scoping, limits and
 * rate limits. Sandbox and snapshot rows are written straight into the store, as if their VMs were
 * elsewhere, so that everything here is decided before a VM would be touched.
 */
class TenancyTest {

    @TempDir static Path dataDir;
    static Daemon daemon;
    static SqliteStore admin;
    static String base;
    static final HttpClient http = HttpClient.newHttpClient();
    static UserAdmin.Issued alice, bob, carol;

    @BeforeAll
    static void start() throws Exception {
        Files.writeString(dataDir.resolve("config.yaml"), "rate_limits:\n  read: {burst: 40, per_minute: 60}\n");
        daemon = new Daemon(ServerConfig.load(dataDir, "127.0.0.1:0"));
        daemon.start(dataDir.resolve("cli.yaml"), null);
        base = "http://127.0.0.1:" + daemon.port();
        // a second connection to the daemon's database, as `bhatti user` on the server opens it
        admin = SqliteStore.open(dataDir.resolve("state.db"));
        var users = new UserAdmin(admin);
        alice = users.create("alice", new UserAdmin.Quota(1, 4, 4096, 5));
        bob = users.create("bob", new UserAdmin.Quota(5, 4, 4096, 5));
        carol = users.create("carol", new UserAdmin.Quota(5, 4, 4096, 5));
        admin.insertSandbox(new SandboxRecord("aaaa000000000001", alice.user().id(), "dev", SandboxStatus.STOPPED, "", 1, 512, "minimal", "qemu",
                "tcg", Instant.now(), false), alice.user());
        admin.insertSnapshot(new SnapshotRecord("bbbb000000000001", alice.user().id(), "pre", "ready", "aaaa000000000001", "dev", 1,
                512, "minimal", 1, Instant.now()), 5);
    }

    @AfterAll
    static void stop() {
        if (admin != null) admin.close();
        if (daemon != null) daemon.close();
    }

    static HttpResponse<String> call(String method, String path, String key, String body) throws Exception {
        var b = HttpRequest.newBuilder(URI.create(base + path));
        if (key != null) b.header("Authorization", "Bearer " + key);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void anotherUsersThingsAnswerExactlyAsMissingOnesDo() throws Exception {
        String a = alice.apiKey(), b = bob.apiKey();
        assertThat(call("GET", "/sandboxes/dev", a, null).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/sandboxes", b, null).body()).isEqualTo("[]");
        for (String path : new String[]{"/sandboxes/dev", "/sandboxes/aaaa000000000001"}) {
            var theirs = call("GET", path, b, null);
            var missing = call("GET", path + "x", b, null);
            assertThat(theirs.statusCode()).isEqualTo(404);
            String name = path.substring(path.lastIndexOf('/') + 1);
            assertThat(theirs.body()).isEqualTo(missing.body().replace(name + "x", name));
        }
        assertThat(call("POST", "/sandboxes/dev/exec", b, "{\"cmd\":[\"true\"]}").statusCode()).isEqualTo(404);
        assertThat(call("POST", "/sandboxes/dev/stop", b, null).statusCode()).isEqualTo(404);
        assertThat(call("GET", "/sandboxes/dev/files?path=/etc/hostname", b, null).statusCode()).isEqualTo(404);
        assertThat(call("POST", "/sandboxes/dev/checkpoint", b, "{\"name\":\"mine\"}").statusCode()).isEqualTo(404);
        assertThat(call("DELETE", "/sandboxes/dev", b, null).statusCode()).isEqualTo(404);
        assertThat(call("GET", "/snapshots", b, null).body()).isEqualTo("[]");
        assertThat(call("GET", "/snapshots/pre", b, null).statusCode()).isEqualTo(404);
        assertThat(call("POST", "/snapshots/pre/resume", b, "{}").statusCode()).isEqualTo(404);
        assertThat(call("DELETE", "/snapshots/pre", b, null).statusCode()).isEqualTo(404);
        assertThat(call("GET", "/snapshots/pre", a, null).statusCode()).as("still alice's").isEqualTo(200);
    }

    @Test
    void aUserAtTheirLimitIsRefusedBeforeAnythingBoots() throws Exception {
        Files.createDirectories(dataDir.resolve("images"));
        Files.write(dataDir.resolve("images").resolve("rootfs-minimal-amd64.ext4"), new byte[1024]); // a tier, never booted here
        var r = call("POST", "/sandboxes", alice.apiKey(), "{\"name\":\"second\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(429);
        assertThat(r.body()).contains("sandbox limit reached (1 of 1)");
        var cpus = call("POST", "/sandboxes", carol.apiKey(), "{\"name\":\"big\",\"cpus\":8}");
        assertThat(cpus.statusCode()).as("more vCPUs than the user may have in all").isEqualTo(400);
        assertThat(cpus.body()).contains("your vCPU limit");
        assertThat(admin.sandboxes(alice.user().id())).hasSize(1);
        assertThat(Files.exists(dataDir.resolve("sandboxes").resolve("second"))).isFalse();
    }

    @Test
    void aRotatedKeyStopsWorkingAtOnce() throws Exception {
        var users = new UserAdmin(admin);
        var created = users.create("dave", new UserAdmin.Quota(1, 1, 512, 1));
        assertThat(call("GET", "/sandboxes", created.apiKey(), null).statusCode()).isEqualTo(200);
        var rotated = users.rotateKey("dave");
        assertThat(call("GET", "/sandboxes", created.apiKey(), null).statusCode()).as("the stolen old key").isEqualTo(401);
        assertThat(call("GET", "/sandboxes", rotated.apiKey(), null).statusCode()).isEqualTo(200);
        assertThat(Files.readString(dataDir.resolve("state.db"), java.nio.charset.StandardCharsets.ISO_8859_1))
                .as("only hashes are stored").doesNotContain(rotated.apiKey()).doesNotContain(created.apiKey());
        users.delete("dave");
        assertThat(call("GET", "/sandboxes", rotated.apiKey(), null).statusCode()).as("a deleted user's key").isEqualTo(401);
    }

    @Test
    void aUserWhoOwnsThingsIsNotDeletedAndBadNamesAreRefused() {
        var users = new UserAdmin(admin);
        assertThatThrownBy(() -> users.delete("alice")).hasMessageContaining("sandboxes dev").hasMessageContaining("snapshots pre")
                .hasMessageContaining("rotate-key");
        assertThat(admin.userByName("alice")).isPresent();
        assertThatThrownBy(() -> users.create("alice", new UserAdmin.Quota(1, 1, 512, 1))).hasMessageContaining("exists");
        assertThatThrownBy(() -> users.create("x y", new UserAdmin.Quota(1, 1, 512, 1))).hasMessageContaining("invalid user name");
        assertThatThrownBy(() -> users.create("'; DROP TABLE users; --", new UserAdmin.Quota(1, 1, 512, 1))).hasMessageContaining("invalid");
        assertThatThrownBy(() -> users.create("eve", new UserAdmin.Quota(1, 0, 512, 1))).hasMessageContaining("cpus >= 1");
        assertThatThrownBy(() -> users.delete("nobody")).hasMessageContaining("no user named nobody");
    }

    @Test
    void requestsOverTheRateLimitAre429WithRetryAfterPerUser() throws Exception {
        String c = carol.apiKey();
        int passed = 0;
        HttpResponse<String> refused = null;
        for (int i = 0; i < 60 && refused == null; i++) {
            var r = call("GET", "/sandboxes", c, null);
            if (r.statusCode() == 429) refused = r;
            else passed++;
        }
        assertThat(refused).as("the read burst is 40").isNotNull();
        assertThat(passed).isBetween(40, 42);
        assertThat(refused.headers().firstValue("Retry-After")).hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isBetween(1L, 2L));
        assertThat(refused.body()).contains("rate limit exceeded");
        assertThat(call("GET", "/sandboxes", bob.apiKey(), null).statusCode()).as("other users are not held up").isEqualTo(200);
        assertThat(call("GET", "/health", null, null).statusCode()).isEqualTo(200);
    }

    @Test
    void secretsAreEncryptedAtRestListedByNameOnlyAndScopedToTheirOwner() throws Exception {
        // carol's read bucket may be spent by the rate limit test: a user of its own
        String b = bob.apiKey(), c = new UserAdmin(admin).create("frank", new UserAdmin.Quota(1, 1, 512, 1)).apiKey();
        var set = call("POST", "/secrets", b, "{\"name\":\"API_TOKEN\",\"value\":\"s3cr3t-value-42\"}");
        assertThat(set.statusCode()).as(set.body()).isEqualTo(201);
        assertThat(set.body()).contains("API_TOKEN").doesNotContain("s3cr3t");
        assertThat(call("POST", "/secrets", b, "{\"name\":\"API_TOKEN\",\"value\":\"s3cr3t-value-43\"}").statusCode())
                .as("replacing a value").isEqualTo(200);
        var list = call("GET", "/secrets", b, null);
        assertThat(list.body()).contains("\"name\":\"API_TOKEN\"").doesNotContain("s3cr3t");
        assertThat(call("GET", "/secrets", c, null).body()).isEqualTo("[]");
        assertThat(call("DELETE", "/secrets/API_TOKEN", c, null).statusCode()).as("another user's secret").isEqualTo(404);
        for (String bad : new String[]{"{\"name\":\"1BAD\",\"value\":\"x\"}", "{\"name\":\"A-B\",\"value\":\"x\"}",
                "{\"name\":\"OK\"}", "{\"name\":\"OK\",\"value\":\"a\\u0000b\"}", "{\"name\":\"OK\",\"value\":7}",
                "{\"name\":\"OK\",\"value\":\"" + "x".repeat(70_000) + "\"}"}) {
            assertThat(call("POST", "/secrets", b, bad).statusCode()).as(bad.length() > 80 ? "huge value" : bad).isEqualTo(400);
        }
        var unknown = call("POST", "/sandboxes", c, "{\"name\":\"withsecret\",\"secrets\":[\"API_TOKEN\"]}");
        assertThat(unknown.statusCode()).as("carol has no such secret: refused before anything boots").isEqualTo(400);
        assertThat(unknown.body()).contains("unknown secret");
        for (Path f : new Path[]{dataDir.resolve("state.db"), dataDir.resolve("state.db-wal")}) {
            if (Files.exists(f)) assertThat(Files.readString(f, java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("s3cr3t");
        }
        assertThat(call("DELETE", "/secrets/API_TOKEN", b, null).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/secrets/API_TOKEN", b, null).statusCode()).isEqualTo(404);
    }

    @Test
    void aLockedDatabaseAnswers503AndWritesNothing() throws Exception {
        String b = bob.apiKey();
        try (var other = java.sql.DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("state.db"));
             var st = other.createStatement()) {
            st.execute("BEGIN EXCLUSIVE"); // another process holding the write lock longer than the busy timeout
            var r = call("POST", "/secrets", b, "{\"name\":\"LOCKED\",\"value\":\"v\"}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
            assertThat(r.body()).contains("database is unavailable");
            assertThat(r.headers().firstValue("Retry-After")).isPresent();
            st.execute("ROLLBACK");
        }
        assertThat(call("GET", "/secrets/LOCKED", b, null).statusCode()).as("nothing half-written").isEqualTo(404);
        assertThat(call("POST", "/secrets", b, "{\"name\":\"LOCKED\",\"value\":\"v\"}").statusCode()).isEqualTo(201);
        assertThat(call("DELETE", "/secrets/LOCKED", b, null).statusCode()).isEqualTo(200);
    }

    @Test
    void eventsSayWhoDidWhat() throws Exception {
        String b = bob.apiKey();
        call("POST", "/secrets", b, "{\"name\":\"EVT\",\"value\":\"hidden-value-7\"}");
        call("GET", "/sandboxes", "bht_" + "1".repeat(64), null);
        var recent = admin.events(new dev.bhatti.server.store.EventRecord.Filter("", "", "", Instant.now().minusSeconds(600), 100));
        assertThat(recent).anySatisfy(e -> {
            assertThat(e.type()).isEqualTo("secret.set");
            assertThat(e.userName()).isEqualTo("bob");
            assertThat(e.detail()).isEqualTo("EVT");
        });
        assertThat(recent).anySatisfy(e -> assertThat(e.type()).isEqualTo("auth.failed"));
        assertThat(recent).anySatisfy(e -> assertThat(e.type()).isEqualTo("user.create"));
        assertThat(recent).anySatisfy(e -> assertThat(e.type()).isEqualTo("daemon.start"));
        assertThat(recent).allSatisfy(e -> assertThat(e.detail()).doesNotContain("hidden-value-7"));
    }

    @Test
    void snapshotStorageIsCappedPerUser() throws Exception {
        var gina = new UserAdmin(admin).create("gina", new UserAdmin.Quota(1, 1, 512, 5, 0));
        admin.insertSandbox(new SandboxRecord("cccc000000000001", gina.user().id(), "box", SandboxStatus.STOPPED, "", 1, 512, "minimal", "qemu",
                "tcg", Instant.now(), false), gina.user());
        var r = call("POST", "/sandboxes/box/checkpoint", gina.apiKey(), "{\"name\":\"s1\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(429);
        assertThat(r.body()).contains("storage limit reached (0 of 0 MB");
        assertThat(admin.snapshots(gina.user().id())).as("the name is released again").isEmpty();
    }
}

package dev.bhatti.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Several users on one server, through the real CLI and real VMs: accounts and keys administered with
 * `bhatti user` on the data directory, limits that hold under concurrent creates, and users who
 * cannot see each other's sandboxes.
 */
@ExtendWith(DaemonLogOnFailure.class)
class UsersIT {

    static Path dataDir;
    static BhattiProcess.Daemon daemon;

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-users-");

    @BeforeAll
    static void setUp() {
        dataDir = bhatti.dataDir();
        daemon = bhatti.daemon();
    }

    static BhattiProcess.Result admin(String... args) throws Exception {
        var all = new ArrayList<>(java.util.List.of(args));
        all.addAll(java.util.List.of("--data-dir", dataDir.toString()));
        return BhattiProcess.cli(Map.of(), all.toArray(String[]::new));
    }

    /** The CLI as a user holding {@code key}. */
    static BhattiProcess.Result as(String key, String... args) throws Exception {
        return BhattiProcess.cli(Map.of("BHATTI_URL", daemon.url(), "BHATTI_TOKEN", key, "BHATTI_CONFIG", dataDir.resolve("none.yaml").toString()), args);
    }

    static JsonNode json(String s) { return ApiClient.JSON.readTree(s); }

    /** Regular files under {@code dir} whose bytes contain {@code text}. */
    static java.util.List<Path> filesContaining(Path dir, String text) throws Exception {
        byte[] needle = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (var walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).filter(p -> !Files.isSymbolicLink(p)).filter(p -> {
                try {
                    return new String(Files.readAllBytes(p), java.nio.charset.StandardCharsets.ISO_8859_1)
                            .contains(new String(needle, java.nio.charset.StandardCharsets.ISO_8859_1));
                } catch (java.io.IOException e) {
                    return false; // sockets and files that vanished
                }
            }).toList();
        }
    }

    @Test
    void usersGetKeysLimitsHoldUnderConcurrentCreatesAndNobodySeesAnotherUsersSandboxes() throws Exception {
        var created = admin("user", "create", "--name", "alice", "--max-sandboxes", "5", "--max-cpus", "8", "--max-memory", "2048");
        assertThat(created.exit()).as(created.toString()).isZero();
        assertThat(created.stdout()).contains("user/alice created").containsPattern("bht_[0-9a-f]{64}");
        String aliceKey = created.stdout().replaceAll("(?s).*?(bht_[0-9a-f]{64}).*", "$1");
        var bobJson = admin("user", "create", "--name", "bob", "--json");
        assertThat(bobJson.exit()).as(bobJson.toString()).isZero();
        String bobKey = json(bobJson.stdout()).path("api_key").asString();
        assertThat(admin("user", "create", "--name", "bob").exit()).as("names are unique").isNotZero();
        var list = admin("user", "list");
        assertThat(list.stdout()).containsPattern("alice\\s+usr_\\w+\\s+5\\s+8\\s+2048MB").contains("bob").contains("admin");
        assertThat(json(admin("user", "list", "--json").stdout())).hasSize(3);

        // twenty creates at once against a limit of five sandboxes: exactly five VMs (the others get 429,
        // from the limit or from the create rate limit, whichever they meet first)
        var statuses = new ConcurrentLinkedQueue<Integer>();
        var threads = new ArrayList<Thread>();
        for (int i = 0; i < 20; i++) {
            int n = i;
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    statuses.add(daemon.call("POST", "/sandboxes", "{\"name\":\"a" + n + "\",\"memory_mb\":256}", aliceKey).statusCode());
                } catch (Exception e) {
                    statuses.add(-1);
                }
            }));
        }
        for (Thread t : threads) t.join(300_000);
        assertThat(statuses).filteredOn(s -> s == 201).hasSize(5);
        assertThat(statuses).filteredOn(s -> s == 429).hasSize(15);
        assertThat(BhattiProcess.processesMentioning(dataDir)).hasSize(5);
        JsonNode five = json(as(aliceKey, "list", "--json").stdout());
        assertThat(five).hasSize(5);
        for (int i = 2; i < 5; i++) assertThat(as(aliceKey, "destroy", five.get(i).path("name").asString(), "-y").exit()).isZero();
        JsonNode mine = json(as(aliceKey, "list", "--json").stdout());
        assertThat(mine).hasSize(2);
        String one = mine.get(0).path("name").asString();
        assertThat(as(aliceKey, "exec", one, "--", "echo", "mine").stdout()).isEqualTo("mine\n");

        // bob sees nothing of alice's, exactly as if it did not exist
        assertThat(json(as(bobKey, "list", "--json").stdout())).isEmpty();
        var theirs = as(bobKey, "exec", one, "--", "echo", "x");
        assertThat(theirs.exit()).isNotZero();
        assertThat(theirs.stderr()).contains("not found");
        assertThat(daemon.call("POST", "/sandboxes/" + one + "/exec", "{\"cmd\":[\"true\"]}", bobKey).statusCode()).isEqualTo(404);
        assertThat(daemon.call("DELETE", "/sandboxes/" + mine.get(0).path("id").asString(), null, bobKey).statusCode()).isEqualTo(404);

        // a rotated key: the old one is refused at once
        var rotated = admin("user", "rotate-key", "alice", "--json");
        assertThat(rotated.exit()).as(rotated.toString()).isZero();
        String newKey = json(rotated.stdout()).path("api_key").asString();
        assertThat(daemon.call("GET", "/sandboxes", null, aliceKey).statusCode()).isEqualTo(401);
        assertThat(json(as(newKey, "list", "--json").stdout())).hasSize(2);

        // a secret: encrypted on the host, an environment variable inside the sandbox, plaintext nowhere on the host disk
        String value = "tok-" + java.util.UUID.randomUUID();
        Path valueFile = Files.writeString(dataDir.resolve("value.txt"), value + "\n");
        var set = BhattiProcess.cliWithInput(Map.of("BHATTI_URL", daemon.url(), "BHATTI_TOKEN", newKey,
                "BHATTI_CONFIG", dataDir.resolve("none.yaml").toString()), valueFile, "secret", "set", "API_TOKEN");
        Files.delete(valueFile);
        assertThat(set.exit()).as(set.toString()).isZero();
        assertThat(as(newKey, "secret", "list").stdout()).contains("API_TOKEN").doesNotContain(value);
        assertThat(as(newKey, "destroy", mine.get(1).path("name").asString(), "-y").exit()).isZero();
        var withSecret = as(newKey, "create", "--name", "sec", "--memory", "256", "--secret", "API_TOKEN");
        assertThat(withSecret.exit()).as(withSecret.toString()).isZero();
        assertThat(as(newKey, "exec", "sec", "--", "printenv", "API_TOKEN").stdout()).isEqualTo(value + "\n");
        assertThat(as(newKey, "exec", "sec", "--", "sh", "-c", "test -r /run/bhatti/secrets || echo private").stdout())
                .as("the secrets file is root's").isEqualTo("private\n");
        assertThat(as(bobKey, "create", "--name", "steal", "--secret", "API_TOKEN").stderr()).as("bob cannot use alice's secret")
                .contains("unknown secret");
        assertThat(filesContaining(dataDir, value)).as("no host file holds the plaintext (database, logs, guest disk)").isEmpty();

        // the administrator sees who did what and where the machine stands
        JsonNode status = json(admin("admin", "status", "--json").stdout());
        assertThat(status.path("sandboxes").path("running").asInt()).isEqualTo(2);
        assertThat(status.path("memory_running_mb").asInt()).isEqualTo(512);
        assertThat(status.path("disk_bytes").asLong()).isPositive();
        assertThat(status.path("users").toString()).contains("\"name\":\"alice\",\"sandboxes\":2,\"max_sandboxes\":5");
        assertThat(admin("admin", "status").stdout()).contains("2 running").containsPattern("alice\\s+2/5");
        JsonNode creates = json(admin("admin", "events", "--type", "sandbox.create", "--user", "alice", "--json").stdout());
        assertThat(creates).hasSize(6); // the five that won, then sec
        assertThat(json(admin("admin", "events", "--type", "sandbox.destroy", "--user", "alice", "--json").stdout())).hasSize(4);
        assertThat(admin("admin", "events", "--type", "user.rotate_key").stdout()).contains("alice");
        assertThat(admin("admin", "events", "--type", "auth.failed").stdout()).contains("invalid api key");
        assertThat(admin("admin", "events", "--json").stdout()).doesNotContain(value);
        assertThat(admin("admin", "events", "--since", "yesterday").stderr()).contains("--since must be like");

        // a user who still owns sandboxes or secrets is not deleted; once they are gone, the user goes too
        var refused = admin("user", "delete", "alice", "-y");
        assertThat(refused.exit()).isNotZero();
        assertThat(refused.stderr()).contains("still owns sandboxes").contains("secrets API_TOKEN");
        assertThat(admin("user", "delete", "bob").exit()).as("no silent no-op without --yes").isNotZero();
        for (JsonNode s : json(as(newKey, "list", "--json").stdout())) assertThat(as(newKey, "destroy", s.path("name").asString(), "-y").exit()).isZero();
        assertThat(as(newKey, "secret", "delete", "API_TOKEN", "-y").exit()).isZero();
        assertThat(admin("user", "delete", "alice", "-y").exit()).isZero();
        assertThat(daemon.call("GET", "/sandboxes", null, newKey).statusCode()).isEqualTo(401);
        assertThat(BhattiProcess.processesMentioning(dataDir)).isEmpty();

        var missing = BhattiProcess.cli(Map.of(), "user", "list", "--data-dir", dataDir.resolve("nope").toString());
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.stderr()).contains("state.db is missing");
    }
}

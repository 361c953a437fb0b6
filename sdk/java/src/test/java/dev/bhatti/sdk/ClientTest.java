package dev.bhatti.sdk;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** The client against a stand-in daemon: what it sends, how it reads the answers, and how failures surface. */
class ClientTest {
    static final String SANDBOX = """
            {"id":"0123456789abcdef","name":"agent","status":"running","thermal":"hot","detail":"","cpus":2,"memory_mb":512,
             "image":"minimal","engine":"qemu","accelerator":"tcg","ip":"10.0.0.2","egress":"all","allow_hosts":null,"keep_hot":false,
             "disk_bytes":12345,"created_at":"2026-01-02T03:04:05.123Z","volumes":[{"name":"data","mount":"/data","read_only":true}],
             "some_future_field":{"x":1}}""";

    FakeDaemon daemon;
    Bhatti bhatti;

    @BeforeEach
    void start() throws Exception {
        daemon = new FakeDaemon();
        bhatti = Bhatti.builder().url(daemon.url()).token("bht_key").requestTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterEach
    void stop() {
        bhatti.close();
        daemon.close();
    }

    @Test
    void createSendsTheKeyAndSnakeCaseJsonAndReadsTheSandbox() {
        daemon.on("POST /sandboxes", 201, SANDBOX);
        Sandbox sb = bhatti.sandboxes().create(Create.named("agent").image("minimal").cpus(2).memoryMb(512));
        var seen = daemon.seen.get("POST /sandboxes");
        assertThat(seen.authorization()).isEqualTo("Bearer bht_key");
        assertThat(seen.contentType()).isEqualTo("application/json");
        assertThat(Json.MAPPER.readTree(seen.body())).isEqualTo(Json.MAPPER.readTree("{\"name\":\"agent\",\"image\":\"minimal\",\"cpus\":2,\"memory_mb\":512}"));
        SandboxInfo i = sb.info();
        assertThat(sb.id()).isEqualTo("0123456789abcdef");
        assertThat(i.memoryMb()).isEqualTo(512);
        assertThat(i.diskBytes()).isEqualTo(12345L);
        assertThat(i.createdAt()).isEqualTo(Instant.parse("2026-01-02T03:04:05.123Z"));
        assertThat(i.volumes()).containsExactly(new VolumeMount("data", "/data", true));
        assertThat(i.allowHosts()).isNull();
        assertThat(i.running()).isTrue();
    }

    @Test
    void namesArePathSegmentsWhateverTheyHold() {
        daemon.on("GET /sandboxes/a b/c", 200, SANDBOX);
        bhatti.sandboxes().get("a b/c");
        assertThat(daemon.seen).containsKey("GET /sandboxes/a b/c");
    }

    @Test
    void refusalsAreTypedWithTheDaemonsMessage() {
        daemon.on("GET /sandboxes/nope", 404, "{\"error\":\"sandbox not found: nope\"}")
                .on("GET /sandboxes", 401, "{\"error\":\"invalid API key\"}")
                .on("POST /sandboxes", x -> new FakeDaemon.Answer(429, Map.of("Retry-After", "3"), "{\"error\":\"rate limit\"}".getBytes()))
                .on("POST /sandboxes/0123456789abcdef/checkpoint", 409, "{\"error\":\"snapshot pre exists\"}")
                .on("GET /sandboxes/0123456789abcdef", 200, SANDBOX);
        assertThatThrownBy(() -> bhatti.sandboxes().get("nope")).isInstanceOf(NotFound.class).hasMessage("sandbox not found: nope");
        assertThatThrownBy(() -> bhatti.sandboxes().list()).isInstanceOf(AuthenticationError.class);
        assertThatThrownBy(() -> bhatti.sandboxes().create("x")).isInstanceOfSatisfying(RateLimited.class,
                e -> assertThat(e.retryAfter()).contains(Duration.ofSeconds(3)));
        var sb = bhatti.sandboxes().get("0123456789abcdef");
        assertThatThrownBy(() -> sb.snapshot("pre")).isInstanceOf(Conflict.class).hasMessageContaining("exists");
    }

    @Test
    void aSuccessThatIsNotTheApisJsonIsAServerError() {
        daemon.on("GET /sandboxes", x -> new FakeDaemon.Answer(200, Map.of(), "<html>captive portal</html>".getBytes()));
        assertThatThrownBy(() -> bhatti.sandboxes().list()).isInstanceOf(ServerError.class).hasMessageContaining("not the API's JSON");
    }

    @Test
    void execBufferedAndStreamed() {
        daemon.on("POST /sandboxes/0123456789abcdef/exec", x -> {
            if ("application/x-ndjson".equals(x.getRequestHeaders().getFirst("Accept"))) {
                return new FakeDaemon.Answer(200, Map.of("Content-Type", "application/x-ndjson"), """
                        {"type":"stdout","data":"a"}
                        {"type":"stderr","data":"oops"}
                        {"type":"stdout","data":"b"}
                        {"type":"exit","exit_code":2}
                        """.getBytes(StandardCharsets.UTF_8));
            }
            return FakeDaemon.Answer.json(200, "{\"exit_code\":3,\"stdout\":\"42\\n\",\"stderr\":\"\",\"truncated\":true}");
        }).on("GET /sandboxes/0123456789abcdef", 200, SANDBOX);
        var sb = bhatti.sandboxes().get("0123456789abcdef");
        ExecResult r = sb.exec("python3", "-c", "print(6*7)");
        assertThat(r).isEqualTo(new ExecResult(3, "42\n", "", false, true));
        assertThat(r.ok()).isFalse();
        assertThat(Json.MAPPER.readTree(daemon.seen.get("POST /sandboxes/0123456789abcdef/exec").body()).path("cmd").size()).isEqualTo(3);

        var out = new StringBuilder();
        ExecResult streamed = sb.exec(Exec.of("make", "test").onStdout(out::append));
        assertThat(out).hasToString("ab");
        assertThat(streamed).as("stderr had no consumer: it is in the result").isEqualTo(new ExecResult(2, "", "oops", false, false));

        try (var events = sb.execStream(Exec.of("make"))) {
            assertThat(events.toList()).containsExactly(new ExecEvent.Stdout("a"), new ExecEvent.Stderr("oops"), new ExecEvent.Stdout("b"),
                    new ExecEvent.Exit(2, false));
        }
    }

    @Test
    void listingsInBothShapesAndFileWritesWithTheirMode() {
        daemon.on("GET /sandboxes/0123456789abcdef", 200, SANDBOX).on("GET /sandboxes/0123456789abcdef/files", x ->
                x.getRequestURI().getQuery().contains("/big")
                        ? FakeDaemon.Answer.json(200, "{\"entries\":[{\"name\":\"a\",\"size\":1,\"mode\":\"0644\",\"is_dir\":false,\"type\":\"file\","
                        + "\"mtime\":\"2026-01-01T00:00:00Z\"}],\"total\":50000,\"truncated\":true}")
                        : FakeDaemon.Answer.json(200, "[{\"name\":\"d\",\"size\":4096,\"mode\":\"0755\",\"is_dir\":true,\"type\":\"dir\",\"mtime\":\"2026-01-01T00:00:00Z\"}]"))
                .on("PUT /sandboxes/0123456789abcdef/files", 200, "{\"status\":\"ok\"}");
        var sb = bhatti.sandboxes().get("0123456789abcdef");
        FileListing small = sb.files().list("/workspace");
        assertThat(small.truncated()).isFalse();
        assertThat(small.find("d")).hasValueSatisfying(e -> assertThat(e.isDir()).isTrue());
        FileListing big = sb.files().list("/big");
        assertThat(big.truncated()).isTrue();
        assertThat(big.total()).isEqualTo(50000);
        assertThat(big.entries()).hasSize(1);

        sb.files().write("/workspace/a b.txt", "hi".getBytes(), 0600);
        var put = daemon.seen.get("PUT /sandboxes/0123456789abcdef/files");
        assertThat(put.query()).isEqualTo("path=%2Fworkspace%2Fa%20b.txt&mode=0600");
        assertThat(put.body()).isEqualTo("hi");
        assertThat(put.contentType()).isEqualTo("application/octet-stream");
    }

    @Test
    void theOtherResourcesReadTheirRecords() {
        daemon.on("GET /snapshots", 200, "[{\"id\":\"snap_1\",\"name\":\"pre\",\"status\":\"ready\",\"source_sandbox\":\"agent\",\"cpus\":1,"
                        + "\"memory_mb\":512,\"size_bytes\":1048576,\"size_mb\":1,\"created_at\":\"2026-01-01T00:00:00Z\"}]")
                .on("GET /secrets", 200, "[{\"name\":\"K\",\"created_at\":\"2026-01-01T00:00:00Z\",\"updated_at\":\"2026-01-02T00:00:00Z\"}]")
                .on("GET /images/py", 200, "{\"name\":\"py\",\"source\":\"docker.io/library/python:3\",\"owner\":\"admin\",\"shared\":false,"
                        + "\"size_bytes\":9,\"config\":{\"env\":{\"PATH\":\"/bin\"},\"workdir\":\"/\",\"user\":\"\",\"entrypoint\":[],\"cmd\":[\"python3\"]},"
                        + "\"layers\":[\"sha256:1\"]}")
                .on("GET /volumes", 200, "[{\"name\":\"data\",\"size_mb\":64,\"used_bytes\":4096,\"status\":\"ready\",\"source\":\"\","
                        + "\"attached_to\":[{\"sandbox\":\"agent\",\"mount\":\"/data\",\"read_only\":false}],\"created_at\":\"2026-01-01T00:00:00Z\"}]")
                .on("GET /sandboxes/0123456789abcdef", 200, SANDBOX)
                .on("GET /sandboxes/0123456789abcdef/sessions", 200, "[{\"session_id\":\"s1\",\"argv\":[\"/bin/bash\",\"-li\"],\"tty\":true,"
                        + "\"running\":true,\"exit_code\":null,\"attached\":false,\"created_at\":\"2026-01-01T00:00:00Z\"}]")
                .on("GET /sandboxes/0123456789abcdef/publish", 200, "[{\"id\":\"pub_1\",\"sandbox_id\":\"0123456789abcdef\",\"port\":8080,"
                        + "\"alias\":\"agent-abcdef\",\"url\":null,\"url_unavailable\":\"no proxy\",\"created_at\":\"2026-01-01T00:00:00Z\"}]");
        assertThat(bhatti.snapshots().list().getFirst().sourceSandbox()).isEqualTo("agent");
        assertThat(bhatti.secrets().list().getFirst().updatedAt()).isEqualTo(Instant.parse("2026-01-02T00:00:00Z"));
        Image py = bhatti.images().get("py");
        assertThat(py.config().cmd()).containsExactly("python3");
        assertThat(py.layers()).containsExactly("sha256:1");
        assertThat(bhatti.volumes().list().getFirst().attachedTo()).containsExactly(new Volume.Attachment("agent", "/data", false));
        var sb = bhatti.sandboxes().get("0123456789abcdef");
        SessionInfo s = sb.sessions().getFirst();
        assertThat(s.exitCode()).isNull();
        assertThat(s.argv()).containsExactly("/bin/bash", "-li");
        assertThat(sb.published().getFirst().urlUnavailable()).isEqualTo("no proxy");
    }

    @Test
    void aDaemonThatDoesNotAnswerInTimeIsAConnectionFailure() throws Exception {
        var never = new CountDownLatch(1);
        daemon.on("GET /sandboxes", x -> {
            never.await();
            return FakeDaemon.Answer.json(200, "[]");
        });
        try (var impatient = Bhatti.builder().url(daemon.url()).token("k").requestTimeout(Duration.ofMillis(300)).build()) {
            assertTimeoutPreemptively(Duration.ofSeconds(10), () ->
                    assertThatThrownBy(() -> impatient.sandboxes().list()).isInstanceOf(ConnectionFailed.class)
                            .hasMessageContaining("no answer").hasMessageContaining("300 ms"));
        } finally {
            never.countDown();
        }
    }

    @Test
    void anUnreachableDaemonIsAConnectionFailure() throws Exception {
        int port;
        try (var s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there now
        }
        try (var nobody = Bhatti.connect("http://127.0.0.1:" + port, "k")) {
            assertThatThrownBy(() -> nobody.sandboxes().list()).isInstanceOf(ConnectionFailed.class).hasMessageContaining("cannot reach")
                    .satisfies(e -> assertThat(((BhattiException) e).status()).isZero());
        }
    }

    @Test
    void theVersionNeedsNoKey() {
        daemon.on("GET /health", 200, "{\"status\":\"ok\",\"version\":\"0.1.0\"}");
        assertThat(bhatti.version()).isEqualTo("0.1.0");
    }

}

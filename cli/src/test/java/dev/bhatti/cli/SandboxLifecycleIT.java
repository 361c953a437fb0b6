package dev.bhatti.cli;

import dev.bhatti.engine.qemu.Accelerator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The user story of a first sandbox, end to end on real VMs: the real daemon process, the real CLI,
 * real QEMU guests (TCG here, KVM where the host has it). VMs are shared between steps, so the steps
 * run in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(DaemonLogOnFailure.class)
class SandboxLifecycleIT {

    /** Built images are cached here across runs (the build is skipped when its inputs did not change). */

    static Path dataDir;
    static BhattiProcess.Daemon daemon;
    static final HttpClient http = HttpClient.newHttpClient();
    static String devId;

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-it-")
            // a tier whose root filesystem is garbage: the boot fails inside the guest
            .before(dir -> Files.write(dir.resolve("images/rootfs-broken-amd64.ext4"), new byte[4 * 1024 * 1024]))
            // the abuse steps fire 100 execs at once: above the default exec burst (30), which has its own test
            .config("rate_limits:\n  exec: {burst: 1000, per_minute: 60000}\n");

    @BeforeAll
    static void setUp() {
        dataDir = bhatti.dataDir();
        daemon = bhatti.daemon();
    }

    static HttpResponse<String> call(String method, String path, String body) throws Exception {
        return daemon.call(method, path, body);
    }

    static HttpResponse<String> call(String method, String path, String body, String key) throws Exception {
        return daemon.call(method, path, body, key);
    }

    static JsonNode json(String s) { return ApiClient.JSON.readTree(s); }

    static BhattiProcess.Result cli(String... args) throws Exception { return BhattiProcess.cli(daemon.env, args); }

    @Test @Order(1)
    void createListAndInspectThroughTheCli() throws Exception {
        var created = cli("create", "--name", "dev", "--cpus", "1", "--memory", "512");
        assertThat(created.exit()).as(created.toString()).isZero();
        assertThat(created.stdout()).contains("sandbox/dev created (1 vCPU, 512 MB");

        var list = cli("list");
        assertThat(list.stdout()).containsPattern("NAME\\s+STATUS\\s+THERMAL\\s+CPUS\\s+MEMORY\\s+IP\\s+AGE");
        assertThat(list.stdout()).containsPattern("dev\\s+running\\s+hot\\s+1\\s+512MB");
        JsonNode all = json(cli("list", "--json").stdout());
        assertThat(all).hasSize(1);

        JsonNode dev = json(cli("inspect", "dev", "--json").stdout());
        devId = dev.path("id").asString();
        assertThat(dev.path("status").asString()).isEqualTo("running");
        assertThat(dev.path("engine").asString()).isEqualTo("qemu");
        assertThat(dev.path("accelerator").asString()).isEqualTo(Accelerator.detect("auto").wire());
        assertThat(dev.path("memory_mb").asInt()).isEqualTo(512);
        assertThat(dev.path("created_at").asString()).isNotBlank();
        assertThat(cli("inspect", "dev").stdout()).contains("accelerator:").contains("status:       running");
        assertThat(BhattiProcess.processesMentioning(dataDir)).hasSize(1);
    }

    @Test @Order(2)
    void createIsIdempotentByNameAndNeverBootsASecondVm() throws Exception {
        var again = call("POST", "/sandboxes", "{\"name\":\"dev\",\"cpus\":1}");
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.headers().firstValue("X-Bhatti-Existing")).contains("true");
        assertThat(json(again.body()).path("id").asString()).isEqualTo(devId);
        assertThat(cli("create", "--name", "dev").stdout()).contains("unchanged (already exists");
        assertThat(BhattiProcess.processesMentioning(dataDir)).hasSize(1);
    }

    @Test @Order(3)
    void execPassesOutputStreamsAndExitCodesThroughTheCli() throws Exception {
        var uname = cli("exec", "dev", "--", "uname", "-a");
        assertThat(uname.exit()).isZero();
        assertThat(uname.stdout()).startsWith("Linux dev ");

        var failing = cli("exec", "dev", "--", "sh", "-c", "echo out; echo err >&2; exit 7");
        assertThat(failing.exit()).isEqualTo(7);
        assertThat(failing.stdout()).isEqualTo("out\n");
        assertThat(failing.stderr()).isEqualTo("err\n");

        assertThat(cli("exec", "dev", "--", "id", "-u").stdout()).isEqualTo("1000\n");
        assertThat(cli("exec", "dev", "--", "pwd").stdout()).isEqualTo("/workspace\n");
        assertThat(cli("exec", "--user", "root", "dev", "--", "id", "-u").stdout()).isEqualTo("0\n");

        var missing = cli("exec", "dev", "--", "no-such-binary");
        assertThat(missing.exit()).isEqualTo(127);
        assertThat(missing.stderr()).contains("no-such-binary: command not found");
    }

    @Test @Order(4)
    void timeoutKillsTheWholeProcessGroup() throws Exception {
        var slow = cli("exec", "--timeout", "2", "dev", "--", "sh", "-c", "sleep 100 & sleep 100");
        assertThat(slow.exit()).isEqualTo(124);
        assertThat(slow.stderr()).contains("timed out");
        var left = cli("exec", "dev", "--", "sh", "-c", "pgrep -c -x sleep || true");
        assertThat(left.stdout().strip()).isEqualTo("0");
    }

    @Test @Order(5)
    void execOverHttpWithStdinEnvCwdAndOutputCap() throws Exception {
        var r = call("POST", "/sandboxes/dev/exec",
                "{\"cmd\":[\"sh\",\"-c\",\"echo $FOO; pwd; cat\"],\"env\":{\"FOO\":\"bar\"},\"cwd\":\"/tmp\",\"stdin\":\"piped\"}");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = json(r.body());
        assertThat(body.path("exit_code").asInt()).isZero();
        assertThat(body.path("stdout").asString()).isEqualTo("bar\n/tmp\npiped");

        var big = json(call("POST", "/sandboxes/" + devId + "/exec",
                "{\"cmd\":[\"sh\",\"-c\",\"head -c 11000000 /dev/zero | tr '\\\\0' a\"]}").body());
        assertThat(big.path("truncated").asBoolean()).isTrue();
        assertThat(big.path("stdout").asString()).hasSize(10 * 1024 * 1024);
        assertThat(big.path("stderr").asString()).contains("[output truncated at 10MB]");

        var badCwd = call("POST", "/sandboxes/dev/exec", "{\"cmd\":[\"true\"],\"cwd\":\"/does/not/exist\"}");
        assertThat(badCwd.statusCode()).isEqualTo(400);
        assertThat(badCwd.body()).contains("/does/not/exist");
    }

    @Test @Order(5)
    void streamingExecDeliversEventsAsTheyHappen() throws Exception {
        var req = HttpRequest.newBuilder(URI.create(daemon.url() + "/sandboxes/dev/exec"))
                .header("Authorization", "Bearer " + daemon.apiKey()).header("Accept", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"cmd\":[\"sh\",\"-c\",\"echo one; sleep 2; echo two >&2; printf 'caf\\\\303\\\\251'; exit 3\"]}"))
                .build();
        var response = http.send(req, HttpResponse.BodyHandlers.ofLines());
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/x-ndjson"));
        var events = new java.util.ArrayList<JsonNode>();
        var arrival = new java.util.ArrayList<Long>();
        response.body().forEach(line -> {
            events.add(json(line));
            arrival.add(System.nanoTime());
        });
        // stdout and stderr are separate pipes: order holds within each, not across them
        assertThat(events.getFirst().path("data").asString()).isEqualTo("one\n");
        assertThat(events.getLast().path("type").asString()).isEqualTo("exit");
        assertThat(events.getLast().path("exit_code").asInt()).isEqualTo(3);
        assertThat(concat(events, "stdout")).isEqualTo("one\ncafé");
        assertThat(concat(events, "stderr")).isEqualTo("two\n");
        assertThat(arrival.getLast() - arrival.getFirst()).as("first line arrived before the command ended").isGreaterThan(1_000_000_000L);

        var notRunning = call("POST", "/sandboxes/ghost/exec", "{\"cmd\":[\"true\"]}");
        assertThat(notRunning.statusCode()).isEqualTo(404);

        var cli = BhattiProcess.cli(Map.of("BHATTI_CONFIG", daemon.env.get("BHATTI_CONFIG"), "BHATTI_FORCE_STREAM", "1"),
                "exec", "dev", "--", "sh", "-c", "echo a; echo b >&2; exit 5");
        assertThat(cli.exit()).isEqualTo(5);
        assertThat(cli.stdout()).isEqualTo("a\n");
        assertThat(cli.stderr()).isEqualTo("b\n");
    }

    private static String concat(java.util.List<JsonNode> events, String type) {
        var b = new StringBuilder();
        events.stream().filter(e -> e.path("type").asString().equals(type)).forEach(e -> b.append(e.path("data").asString()));
        return b.toString();
    }

    @Test @Order(5)
    void detachedCommandsOutliveTheRequest() throws Exception {
        var started = cli("exec", "--detach", "dev", "--", "sh", "-c", "sleep 1; echo finished");
        assertThat(started.exit()).as(started.toString()).isZero();
        assertThat(started.stdout()).containsPattern("pid: \\d+\noutput: /tmp/bhatti-exec-[0-9a-f]+\\.log\n");
        String file = started.stdout().lines().filter(l -> l.startsWith("output: ")).findFirst().orElseThrow().substring(8);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                assertThat(cli("exec", "dev", "--", "cat", file).stdout()).isEqualTo("finished\n"));
        assertThat(cli("exec", "dev", "--", "stat", "-c", "%U", file).stdout()).isEqualTo("bhatti\n");
        var bad = call("POST", "/sandboxes/dev/exec", "{\"cmd\":[\"true\"],\"detach\":true,\"output_file\":\"rel.log\"}");
        assertThat(bad.statusCode()).isEqualTo(400);
    }

    @Test @Order(5)
    void filesRoundTripThroughTheCli() throws Exception {
        Path text = Files.writeString(dataDir.resolve("notes.txt"), "hello\nworld\n");
        var wrote = BhattiProcess.cliWithInput(daemon.env, text, "file", "write", "dev", "notes/a.txt", "--mode", "0600");
        assertThat(wrote.exit()).as(wrote.toString()).isZero();
        assertThat(wrote.stdout()).contains("wrote 12 bytes");
        assertThat(cli("file", "read", "dev", "notes/a.txt").stdout()).isEqualTo("hello\nworld\n");
        assertThat(cli("file", "read", "dev", "/workspace/notes/a.txt", "--offset", "2").stdout()).isEqualTo("world\n");
        assertThat(cli("file", "ls", "dev", "notes").stdout()).containsPattern("-0600\\s+12\\s+\\S+\\s+a.txt");
        assertThat(cli("exec", "dev", "--", "stat", "-c", "%U %a", "/workspace/notes/a.txt").stdout()).isEqualTo("bhatti 600\n");
        var missing = cli("file", "read", "dev", "/no/such/file");
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.stderr()).contains("404").contains("no such file");
    }

    /** No Content-Length from a size that lies (/proc: 0) or changes while read: the body is what was read. */
    @Test @Order(5)
    void filesWhoseSizeLiesOrChangesAreReadWhole() throws Exception {
        var cpuinfo = call("GET", "/sandboxes/dev/files?path=/proc/cpuinfo", null);
        assertThat(cpuinfo.statusCode()).as(cpuinfo.body()).isEqualTo(200);
        assertThat(cpuinfo.headers().firstValue("X-File-Size")).contains("0");
        assertThat(cpuinfo.body()).contains("processor");
        assertThat(cli("file", "read", "dev", "/proc/cpuinfo").stdout()).contains("processor");

        // a writer appending lines while the file is read: each read is whole lines, at least the size seen at open
        var writer = call("POST", "/sandboxes/dev/exec", "{\"cmd\":[\"sh\",\"-c\",\"for i in $(seq 1 100000); do echo 0123456789; done"
                + " >> /workspace/growing.log\"],\"detach\":true}");
        assertThat(writer.statusCode()).as(writer.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            var r = call("GET", "/sandboxes/dev/files?path=/workspace/growing.log", null);
            return r.statusCode() == 200 && !r.body().isEmpty();
        });
        for (int i = 0; i < 3; i++) {
            var read = call("GET", "/sandboxes/dev/files?path=/workspace/growing.log", null);
            assertThat(read.statusCode()).isEqualTo(200);
            // chunked; Jetty may still give a length when the whole body fits its buffer, and then it is the body's
            read.headers().firstValueAsLong("Content-Length").ifPresent(n -> assertThat(n).isEqualTo(read.body().length()));
            long sizeAtOpen = Long.parseLong(read.headers().firstValue("X-File-Size").orElseThrow());
            assertThat((long) read.body().length()).isGreaterThanOrEqualTo(sizeAtOpen);
            String whole = read.body().substring(0, read.body().lastIndexOf('\n') + 1);
            assertThat(whole.lines()).allMatch("0123456789"::equals);
        }
    }

    @Test @Order(5)
    void a100MegabyteFileRoundTripsOverHttp() throws Exception {
        Path big = dataDir.resolve("big.bin");
        var random = new java.util.Random(42);
        try (var out = Files.newOutputStream(big)) {
            byte[] chunk = new byte[1024 * 1024];
            for (int i = 0; i < 100; i++) {
                random.nextBytes(chunk);
                out.write(chunk);
            }
        }
        String url = daemon.url() + "/sandboxes/dev/files?path=/workspace/big.bin";
        var put = http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + daemon.apiKey())
                .PUT(HttpRequest.BodyPublishers.ofFile(big)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        assertThat(json(put.body()).path("size").asLong()).isEqualTo(100L * 1024 * 1024);
        Path back = dataDir.resolve("big.back");
        var get = http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + daemon.apiKey()).build(),
                HttpResponse.BodyHandlers.ofFile(back));
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(get.headers().firstValue("X-File-Size")).contains(Long.toString(100L * 1024 * 1024));
        assertThat(Files.mismatch(big, back)).isEqualTo(-1L);

        var head = http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + daemon.apiKey())
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        assertThat(head.headers().firstValue("X-File-Is-Dir")).contains("false");
        assertThat(call("GET", "/sandboxes/dev/files?path=/workspace", null).statusCode()).isEqualTo(409);
        assertThat(call("PUT", "/sandboxes/dev/files?path=/workspace", "x").statusCode()).isEqualTo(409);
        assertThat(call("GET", "/sandboxes/dev/files", null).statusCode()).isEqualTo(400);
        assertThat(call("GET", "/sandboxes/dev/files?path=/workspace/big.bin&offset=-1", null).statusCode()).isEqualTo(400);
        assertThat(call("PUT", "/sandboxes/dev/files?path=x&mode=999", "x").statusCode()).isEqualTo(400);
        Files.delete(big);
        Files.delete(back);
    }

    @Test @Order(5)
    void anUploadCutOffMidwayLeavesNoFile() throws Exception {
        try (var socket = new java.net.Socket("127.0.0.1", daemon.port)) {
            var out = socket.getOutputStream();
            out.write(("PUT /sandboxes/dev/files?path=/workspace/cut.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                    + daemon.apiKey() + "\r\nContent-Length: 10000000\r\n\r\n").getBytes());
            out.write(new byte[1_000_000]);
            out.flush();
            Thread.sleep(1000);
        } // closed mid-body
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(cli("exec", "dev", "--", "sh", "-c", "ls -a /workspace").stdout()).doesNotContain("cut.bin"));
    }

    @Test @Order(5)
    void shellSessionsSurviveDroppedConnectionsAndReattachWithScrollback() throws Exception {
        String base = daemon.url().replace("http", "ws") + "/sandboxes/dev/ws";
        var first = WsClient.connect(base + "?new=true&rows=30&cols=100", daemon.apiKey());
        first.type("echo shell-$((6*7)); stty size\n");
        first.awaitOutput("shell-42");
        first.awaitOutput("30 100");
        String id = json(first.control.toString().lines().findFirst().orElseThrow()).path("session_id").asString();
        first.ws.sendText("{\"type\":\"resize\",\"rows\":40,\"cols\":132}", true).get();
        first.type("stty size\n");
        first.awaitOutput("40 132");
        first.ws.abort(); // the connection drops: the shell must live on

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            JsonNode s = sessionNamed(id);
            assertThat(s.path("running").asBoolean()).isTrue();
            assertThat(s.path("attached").asBoolean()).isFalse();
        });
        assertThat(cli("ps", "dev").stdout()).containsPattern(id + "\\s+/bin/bash -li\\s+yes\\s+yes");

        var again = WsClient.connect(base, daemon.apiKey()); // no session given: reattach to the detached shell
        again.awaitOutput("shell-42"); // scrollback replayed
        assertThat(again.control.toString()).contains("\"session_id\":\"" + id + "\"");
        assertThat(cli("ps", "dev", "--kill", id).exit()).isZero();
        assertThat(again.closed.get(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(1000);
        assertThat(again.control.toString()).contains("\"type\":\"exit\"").contains("\"exit_code\":137");
        assertThat(sessionNamed(id).path("running").asBoolean()).isFalse();

        assertThat(call("GET", "/sandboxes/dev/ws", null).statusCode()).as("no upgrade").isEqualTo(400);
        assertThat(call("DELETE", "/sandboxes/dev/sessions/s999", null).statusCode()).isEqualTo(404);

        var piped = BhattiProcess.cliWithInput(daemon.env, Files.writeString(dataDir.resolve("keys.txt"), "echo via-cli-$((2+3))\nexit 5\n"),
                "shell", "dev", "--new");
        assertThat(piped.exit()).as(piped.toString()).isEqualTo(5);
        assertThat(piped.stdout()).contains("via-cli-5");
    }

    @Test @Order(5)
    void portForwardingRelaysManyConnectionsAtOnce() throws Exception {
        var server = cli("exec", "--detach", "dev", "--", "perl", "-MIO::Socket::INET", "-e",
                "$SIG{CHLD}='IGNORE'; $s=IO::Socket::INET->new(LocalAddr=>'127.0.0.1',LocalPort=>3000,Listen=>64,ReuseAddr=>1)"
                + " or die $!; while($c=$s->accept){ if(fork()==0){ $c->autoflush(1); while(<$c>){print $c \"echo:$_\"} exit 0 } close $c }");
        assertThat(server.exit()).as(server.toString()).isZero();
        int hostPort = BhattiProcess.freePort();
        var fwd = cli("forward", "--detach", "dev", hostPort + ":3000");
        assertThat(fwd.exit()).as(fwd.toString()).isZero();
        assertThat(fwd.stdout()).contains("127.0.0.1:" + hostPort);

        var results = new java.util.concurrent.ConcurrentHashMap<Integer, String>();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> echo(hostPort, "probe").equals("echo:probe"));
        var threads = new java.util.ArrayList<Thread>();
        for (int i = 0; i < 10; i++) {
            int n = i;
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    results.put(n, echo(hostPort, "hello-" + n));
                } catch (Exception e) {
                    results.put(n, e.toString());
                }
            }));
        }
        for (Thread t : threads) t.join(60_000);
        for (int i = 0; i < 10; i++) assertThat(results.get(i)).isEqualTo("echo:hello-" + i);

        assertThat(json(call("GET", "/sandboxes/dev/forward", null).body()).findValuesAsString("host_addr"))
                .containsExactly("127.0.0.1:" + hostPort);
        assertThat(call("POST", "/sandboxes/dev/forward", "{\"guest_port\":0}").statusCode()).isEqualTo(400);
        assertThat(call("POST", "/sandboxes/dev/forward", "{\"guest_port\":3000,\"host_port\":" + hostPort + "}").statusCode())
                .as("host port taken").isEqualTo(409);
        assertThat(call("DELETE", "/sandboxes/dev/forward/" + hostPort, null).statusCode()).isEqualTo(200);
        assertThatThrownBy(() -> echo(hostPort, "after")).isInstanceOf(java.io.IOException.class);
    }

    /** One line through a forwarded port, answered by the guest's echo server. */
    private static String echo(int port, String line) throws Exception {
        try (var socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write((line + "\n").getBytes());
            var reader = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream()));
            String answer = reader.readLine();
            if (answer == null) throw new java.io.IOException("closed without an answer");
            return answer;
        }
    }

    @Test @Order(5)
    void pipedSessionsOverWebSocketAreReattachable() throws Exception {
        String url = daemon.url().replace("http", "ws") + "/sandboxes/dev/exec/ws";
        var first = WsClient.connect(url, daemon.apiKey());
        first.ws.sendText("{\"cmd\":[\"sh\",\"-c\",\"echo start; read x; echo got-$x >&2; sleep 120\"]}", true).get();
        await().atMost(Duration.ofSeconds(30)).until(() -> first.control.toString().contains("start"));
        String id = json(first.control.toString().lines().findFirst().orElseThrow()).path("session_id").asString();
        first.ws.sendText("value\n", true).get();
        await().atMost(Duration.ofSeconds(30)).until(() -> first.control.toString().contains("got-value"));
        first.ws.abort();

        var again = WsClient.connect(url + "?session=" + id, daemon.apiKey());
        await().atMost(Duration.ofSeconds(30)).until(() -> again.control.toString().contains("got-value")); // scrollback
        assertThat(call("DELETE", "/sandboxes/dev/sessions/" + id, null).statusCode()).isEqualTo(200);
        assertThat(again.closed.get(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(1000);
        assertThat(again.control.toString()).contains("\"exit_code\":137");

        var bad = WsClient.connect(url, daemon.apiKey());
        bad.ws.sendText("{\"cmd\":[]}", true).get();
        assertThat(bad.closed.get(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(1008);
        assertThat(bad.control.toString()).contains("cmd must be");
    }

    @Test @Order(5)
    void servicesRunUnderTheAgentWithSystemctlAndJournalctl() throws Exception {
        Path unit = Files.writeString(dataDir.resolve("demo.service"), """
                [Unit]
                Description=Demo service
                [Service]
                Environment=MODE=test
                ExecStart=/bin/sh -c 'echo demo-up-$MODE; exec sleep 600'
                Restart=always
                RestartSec=1
                [Install]
                WantedBy=multi-user.target
                """);
        var wrote = BhattiProcess.cliWithInput(daemon.env, unit, "file", "write", "--user", "root", "dev", "/etc/systemd/system/demo.service");
        assertThat(wrote.exit()).as(wrote.toString()).isZero();
        assertThat(cli("exec", "dev", "--", "sudo", "systemctl", "enable", "--now", "demo").exit()).isZero();
        assertThat(cli("exec", "dev", "--", "sudo", "systemctl", "is-active", "demo").stdout()).isEqualTo("active\n");
        assertThat(cli("exec", "dev", "--", "sudo", "systemctl", "is-enabled", "demo").stdout()).isEqualTo("enabled\n");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(cli("exec", "dev", "--", "journalctl", "-u", "demo", "-n", "5").stdout()).contains("demo-up-test"));

        // Restart=always: the main process dies, the service comes back with a new one
        String pid = cli("exec", "dev", "--", "sudo", "systemctl", "show", "demo").stdout().lines()
                .filter(l -> l.startsWith("MainPID=")).findFirst().orElseThrow().substring(8);
        cli("exec", "dev", "--", "sudo", "kill", "-9", pid);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            String show = cli("exec", "dev", "--", "sudo", "systemctl", "show", "demo").stdout();
            assertThat(show).contains("ActiveState=active").doesNotContain("MainPID=" + pid + "\n").doesNotContain("MainPID=0\n");
        });
        assertThat(cli("exec", "dev", "--", "journalctl", "-u", "demo").stdout()).contains("restarting");

        var status = cli("exec", "dev", "--", "sudo", "systemctl", "status", "demo");
        assertThat(status.exit()).isZero();
        assertThat(status.stdout()).contains("demo.service - Demo service").contains("active (running)");
        assertThat(cli("exec", "dev", "--", "sudo", "systemctl", "stop", "demo").exit()).isZero();
        var inactive = cli("exec", "dev", "--", "sudo", "systemctl", "is-active", "demo");
        assertThat(inactive.exit()).isEqualTo(3);
        assertThat(inactive.stdout()).isEqualTo("inactive\n");
        assertThat(cli("exec", "dev", "--", "sudo", "systemctl", "start", "nope").exit()).isEqualTo(5);

        // Type=notify: start returns once the service reports READY=1 on its NOTIFY_SOCKET
        Path notifyUnit = Files.writeString(dataDir.resolve("ready.service"), """
                [Service]
                Type=notify
                ExecStart=/usr/bin/perl -MIO::Socket::UNIX -e 'sleep 2; IO::Socket::UNIX->new(Type => SOCK_DGRAM(), Peer => $ENV{NOTIFY_SOCKET})->send("STATUS=warmed up\\nREADY=1"); sleep 600'
                """);
        assertThat(BhattiProcess.cliWithInput(daemon.env, notifyUnit, "file", "write", "--user", "root", "dev",
                "/etc/systemd/system/ready.service").exit()).isZero();
        var startReady = cli("exec", "dev", "--", "sudo", "systemctl", "start", "ready");
        assertThat(startReady.exit()).as(startReady.toString()).isZero();
        assertThat(cli("exec", "dev", "--", "sudo", "systemctl", "status", "ready").stdout())
                .contains("active (running)").contains("Status: \"warmed up\"");
        assertThat(cli("exec", "dev", "--", "sudo", "systemctl", "stop", "ready").exit()).isZero();
        // uid 1000 may look without sudo (GuestSystemctlIT has the rest), not change
        var unprivileged = cli("exec", "dev", "--", "systemctl", "status", "demo");
        assertThat(unprivileged.exit()).isEqualTo(3);
        assertThat(unprivileged.stdout()).contains("Active: inactive (dead)");
        var refused = cli("exec", "dev", "--", "systemctl", "start", "demo");
        assertThat(refused.exit()).isEqualTo(4);
        assertThat(refused.stderr()).contains("Access denied").contains("sudo systemctl start demo");
    }

    @Test @Order(5)
    void aPackageThatShipsAUnitStartsUnderTheAgent() throws Exception {
        // A .deb with a unit and the postinst debhelper generates (deb-systemd-helper + deb-systemd-invoke).
        Path tree = dataDir.resolve("hello-svc");
        for (String f : new String[]{"DEBIAN/control", "DEBIAN/postinst", "lib/systemd/system/hello-svc.service", "usr/bin/hello-svc"}) {
            Path target = tree.resolve(f);
            Files.createDirectories(target.getParent());
            try (var in = getClass().getResourceAsStream("/hello-svc/" + f)) {
                Files.copy(in, target);
            }
        }
        Files.setPosixFilePermissions(tree.resolve("DEBIAN/postinst"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(tree.resolve("usr/bin/hello-svc"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path deb = dataDir.resolve("hello-svc.deb");
        Process build = new ProcessBuilder("dpkg-deb", "--root-owner-group", "--build", "-Zgzip", tree.toString(), deb.toString())
                .redirectErrorStream(true).start();
        String buildOut = new String(build.getInputStream().readAllBytes());
        assertThat(build.waitFor()).as(buildOut).isZero();

        assertThat(BhattiProcess.cliWithInput(daemon.env, deb, "file", "write", "dev", "/tmp/hello-svc.deb").exit()).isZero();
        var install = cli("exec", "dev", "--", "sudo", "dpkg", "-i", "/tmp/hello-svc.deb");
        assertThat(install.exit()).as(install.toString()).isZero();
        assertThat(cli("exec", "dev", "--", "sudo", "systemctl", "is-active", "hello-svc").stdout()).isEqualTo("active\n");
        assertThat(cli("exec", "dev", "--", "sudo", "systemctl", "is-enabled", "hello-svc").stdout()).isEqualTo("enabled\n");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(cli("exec", "dev", "--", "journalctl", "-u", "hello-svc").stdout()).contains("hello-from-package"));
        assertThat(cli("exec", "dev", "--", "sudo", "systemctl", "stop", "hello-svc").exit()).isZero();
    }

    private static JsonNode sessionNamed(String id) throws Exception {
        for (JsonNode s : json(call("GET", "/sandboxes/dev/sessions", null).body())) {
            if (s.path("session_id").asString().equals(id)) return s;
        }
        throw new AssertionError("no session " + id);
    }

    @Test @Order(6)
    void unknownSandboxesAndBadKeysAreRefused() throws Exception {
        assertThat(call("GET", "/sandboxes/ghost", null).statusCode()).isEqualTo(404);
        assertThat(call("POST", "/sandboxes/ghost/exec", "{\"cmd\":[\"true\"]}").statusCode()).isEqualTo(404);
        assertThat(call("GET", "/sandboxes", null, null).statusCode()).isEqualTo(401);
        assertThat(call("GET", "/sandboxes", null, "bht_wrong").statusCode()).isEqualTo(401);
        var ghost = cli("exec", "ghost", "--", "true");
        assertThat(ghost.exit()).isNotZero();
        assertThat(ghost.stderr()).contains("404").contains("sandbox not found");
        var badName = cli("create", "--name", "bad name!");
        assertThat(badName.exit()).isNotZero();
        assertThat(badName.stderr()).contains("400").contains("invalid name");
        var tooBig = cli("create", "--name", "big", "--memory", "99999999");
        assertThat(tooBig.stderr()).contains("memory_mb must be from");
        var wrongKey = BhattiProcess.cli(Map.of("BHATTI_CONFIG", dataDir.resolve("none.yaml").toString(),
                "BHATTI_URL", daemon.url(), "BHATTI_TOKEN", "bht_nope"), "list");
        assertThat(wrongKey.exit()).isNotZero();
        assertThat(wrongKey.stderr()).contains("401").contains("invalid api key");
    }

    @Test @Order(7)
    void setupVerifiesCredentialsBeforeSavingThem() throws Exception {
        Path cfg = dataDir.resolve("setup.yaml");
        var env = Map.of("BHATTI_CONFIG", cfg.toString());
        var bad = BhattiProcess.cli(env, "setup", "--url", daemon.url(), "--token", "bht_wrong");
        assertThat(bad.exit()).isNotZero();
        assertThat(cfg).doesNotExist();
        var good = BhattiProcess.cli(env, "setup", "--url", daemon.url(), "--token", daemon.apiKey());
        assertThat(good.exit()).as(good.toString()).isZero();
        assertThat(Files.readString(cfg)).contains("auth_token: " + daemon.apiKey());
        assertThat(BhattiProcess.cli(env, "list").stdout()).contains("dev");
    }

    @Test @Order(7)
    void theAgentSurvivesAbuseByTheUser() throws Exception {
        // 100 concurrent execs on one sandbox all complete
        var answers = new java.util.concurrent.ConcurrentHashMap<Integer, String>();
        var threads = new java.util.ArrayList<Thread>();
        for (int i = 0; i < 100; i++) {
            int n = i;
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    answers.put(n, json(call("POST", "/sandboxes/dev/exec", "{\"cmd\":[\"echo\",\"n" + n + "\"]}").body())
                            .path("stdout").asString());
                } catch (Exception e) {
                    answers.put(n, e.toString());
                }
            }));
        }
        for (Thread t : threads) t.join(300_000);
        for (int i = 0; i < 100; i++) assertThat(answers.get(i)).isEqualTo("n" + i + "\n");

        // orphans are reaped: 1,000 short-lived background processes leave no zombies
        var zombies = cli("exec", "dev", "--", "sh", "-c",
                "i=0; while [ $i -lt 1000 ]; do (true &); i=$((i+1)); done; sleep 1; ps -eo stat= | grep -c Z || true");
        assertThat(Integer.parseInt(zombies.stdout().strip())).isLessThanOrEqualTo(2);

        // uid 1000 killing everything it can, or fork-bombing, does not take the agent down
        cli("exec", "dev", "--", "kill", "-9", "-1");
        assertThat(cli("exec", "dev", "--", "echo", "alive").stdout()).isEqualTo("alive\n");
        var bomb = cli("exec", "--timeout", "10", "dev", "--", "bash", "-c", "bomb() { bomb | bomb & }; bomb; sleep 60");
        assertThat(bomb.exit()).isEqualTo(124);
        assertThat(cli("exec", "dev", "--", "echo", "alive").stdout()).isEqualTo("alive\n");
        // the timeout killed the whole bomb through its (pooled) cgroup, and the group that serves the next
        // command holds that command alone: sh, cat and wc
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                assertThat(cli("exec", "dev", "--", "sh", "-c", "pgrep -c bash || true").stdout().strip()).isEqualTo("0"));
        var group = cli("exec", "dev", "--", "sh", "-c", "g=$(cut -d: -f3 /proc/self/cgroup); echo $g; cat /sys/fs/cgroup$g/cgroup.procs | wc -l");
        assertThat(group.stdout().lines().toList()).satisfiesExactly(
                g -> assertThat(g).startsWith("/bhatti-user/pool-"), n -> assertThat(n).isEqualTo("3"));

        // the agent itself crashing: the request in flight fails at once, the agent comes back
        var killed = call("POST", "/sandboxes/dev/exec", "{\"cmd\":[\"sh\",\"-c\",\"pkill -9 -f agent.jar; sleep 5\"],\"user\":\"root\"}");
        assertThat(killed.statusCode()).isEqualTo(502);
        assertThat(killed.body()).contains("restarted");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().untilAsserted(() ->
                assertThat(cli("exec", "dev", "--", "echo", "back").stdout()).isEqualTo("back\n"));
    }

    @Test @Order(7)
    void aClientThatStopsReadingStallsOnlyItsOwnStream() throws Exception {
        String agentPid = cli("exec", "--user", "root", "dev", "--", "pgrep", "-f", "agent.jar").stdout().strip();
        try (var socket = new java.net.Socket("127.0.0.1", daemon.port)) {
            String body = "{\"cmd\":[\"yes\"],\"timeout_sec\":20}";
            socket.getOutputStream().write(("POST /sandboxes/dev/exec HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + daemon.apiKey()
                    + "\r\nAccept: application/x-ndjson\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
                    + "\r\n\r\n" + body).getBytes());
            socket.getInputStream().readNBytes(4096); // then stop reading: `yes` produces without end
            Thread.sleep(5_000);
            // other requests on the same agent channel are not held up by the stalled stream
            assertThat(cli("exec", "dev", "--", "echo", "still-responsive").stdout()).isEqualTo("still-responsive\n");
            String rss = cli("exec", "dev", "--", "ps", "-o", "rss=", "-p", agentPid).stdout().strip();
            assertThat(Long.parseLong(rss)).as("agent RSS in KiB stays bounded").isLessThan(300_000);
        }
        assertThat(cli("exec", "--user", "root", "dev", "--", "pgrep", "-f", "agent.jar").stdout().strip()).isEqualTo(agentPid);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2)).untilAsserted(() ->
                assertThat(cli("exec", "dev", "--", "sh", "-c", "pgrep -c -x yes || true").stdout().strip()).isEqualTo("0"));
    }

    @Test @Order(8)
    void aFailedBootLeavesNothingBehind() throws Exception {
        var r = call("POST", "/sandboxes", "{\"name\":\"broken\",\"image\":\"broken\"}");
        assertThat(r.statusCode()).isEqualTo(500);
        assertThat(json(r.body()).path("error").asString()).as("the reason comes first, before the console's tail")
                .startsWith("could not create sandbox: boot failed: bhatti-initramfs: FATAL: cannot mount /dev/vda");
        assertThat(json(call("GET", "/sandboxes", null).body()).findValuesAsString("name")).containsExactly("dev");
        try (var dirs = Files.list(dataDir.resolve("sandboxes"))) {
            assertThat(dirs.map(p -> p.getFileName().toString()).toList()).containsExactly(devId);
        }
        assertThat(BhattiProcess.processesMentioning(dataDir)).hasSize(1);
    }

    @Test @Order(9)
    void daemonRestartAdoptsLiveVmsAndReportsDeadOnesTruthfully() throws Exception {
        Path local = Files.writeString(dataDir.resolve("motd.txt"), "welcome\n");
        var victim = cli("create", "--name", "victim", "-e", "STAGE=prod", "-e", "WHO=bhatti", "--file", local + ":/etc/motd.d/hello:0640",
                "--init", "echo init-ran-$STAGE > /workspace/init.out; echo init-output");
        assertThat(victim.exit()).as(victim.toString()).isZero();
        // create-time configuration: env for every command, files, the init script as session "init"
        assertThat(cli("exec", "victim", "--", "sh", "-c", "echo $STAGE $WHO").stdout()).isEqualTo("prod bhatti\n");
        assertThat(cli("exec", "victim", "-e", "STAGE=dev", "--", "sh", "-c", "echo $STAGE").stdout()).isEqualTo("dev\n");
        assertThat(cli("exec", "victim", "--", "stat", "-c", "%a %U", "/etc/motd.d/hello").stdout()).isEqualTo("640 bhatti\n");
        assertThat(cli("file", "read", "victim", "/etc/motd.d/hello").stdout()).isEqualTo("welcome\n");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(cli("file", "read", "victim", "/workspace/init.out").stdout()).isEqualTo("init-ran-prod\n"));
        assertThat(cli("ps", "victim").stdout()).containsPattern("init\\s+sh -c");
        var badFile = call("POST", "/sandboxes", "{\"name\":\"badfile\",\"files\":[{\"guest_path\":\"rel\",\"content\":\"eA==\"}]}");
        assertThat(badFile.statusCode()).isEqualTo(400);
        assertThat(call("POST", "/sandboxes", "{\"name\":\"badenv\",\"env\":{\"A B\":\"x\"}}").statusCode()).isEqualTo(400);
        assertThat(victim.exit()).as(victim.toString()).isZero();
        String victimId = json(cli("inspect", "victim", "--json").stdout()).path("id").asString();

        daemon.stop();
        long pid = Long.parseLong(Files.readString(dataDir.resolve("sandboxes/" + victimId + "/qemu.pid")).strip());
        ProcessHandle qemu = ProcessHandle.of(pid).orElseThrow();
        qemu.destroyForcibly();
        qemu.onExit().get();
        daemon.start();

        JsonNode list = json(cli("list", "--json").stdout());
        assertThat(list).hasSize(2);
        for (JsonNode s : list) {
            assertThat(s.path("status").asString()).as(s.toString()).isEqualTo(s.path("name").asString().equals("dev") ? "running" : "stopped");
        }
        assertThat(cli("exec", "dev", "--", "hostname").stdout()).isEqualTo("dev\n");

        var refused = cli("destroy", "victim");
        assertThat(refused.exit()).as("no --yes without a terminal").isNotZero();
        assertThat(refused.stderr()).contains("--yes");
        var destroyed = cli("destroy", "victim", "-y");
        assertThat(destroyed.exit()).as(destroyed.toString()).isZero();
        assertThat(dataDir.resolve("sandboxes/" + victimId)).doesNotExist();
    }

    @Test @Order(10)
    void aVmKilledFromOutsideIsNoticedAndStillCleanedUp() throws Exception {
        long pid = Long.parseLong(Files.readString(dataDir.resolve("sandboxes/" + devId + "/qemu.pid")).strip());
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250)).untilAsserted(() ->
                assertThat(json(call("GET", "/sandboxes/dev", null).body()).path("status").asString()).isEqualTo("error"));
        assertThat(json(call("GET", "/sandboxes/dev", null).body()).path("detail").asString()).contains("ended");
        var exec = call("POST", "/sandboxes/dev/exec", "{\"cmd\":[\"true\"]}");
        assertThat(exec.statusCode()).isEqualTo(409);
        assertThat(exec.body()).contains("not running");

        var gone = cli("destroy", "dev", "-y");
        assertThat(gone.exit()).as(gone.toString()).isZero();
        assertThat(json(call("GET", "/sandboxes", null).body())).isEmpty();
        try (var dirs = Files.list(dataDir.resolve("sandboxes"))) {
            assertThat(dirs).isEmpty();
        }
        assertThat(BhattiProcess.processesMentioning(dataDir)).isEmpty();
    }
}

package dev.bhatti.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Published ports through the public proxy, on real VMs: routing by Host header, wake on the first
 * request (once, however many arrive together), unique aliases, and bounded, spoof-proof requests.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(DaemonLogOnFailure.class)
class PublishIT {
    static final String DOMAIN = "sandbox.test";
    static Path dataDir;
    static BhattiProcess.Daemon daemon;
    static String bobKey;
    static int proxyPort;

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-publish-").config(dir -> {
        proxyPort = BhattiProcess.freePort();
        return """
                thermal: {warm_after_sec: 0, cold_after_sec: 0}
                rate_limits: {create: {burst: 100, per_minute: 600}, exec: {burst: 1000, per_minute: 60000}, read: {burst: 1000, per_minute: 60000}}
                proxy: {listen: "127.0.0.1:%d", domain: %s, idle_timeout_sec: 2}
                """.formatted(proxyPort, DOMAIN);
    });

    @BeforeAll
    static void setUp() throws Exception {
        dataDir = bhatti.dataDir();
        daemon = bhatti.daemon();
        var bob = BhattiProcess.cli(Map.of(), "user", "create", "--name", "bob", "--json", "--data-dir", dataDir.toString());
        bobKey = json(bob.stdout()).path("api_key").asString();
    }

    static JsonNode json(String s) { return ApiClient.JSON.readTree(s); }

    static BhattiProcess.Result cli(String... args) throws Exception { return BhattiProcess.cli(daemon.env, args); }

    static BhattiProcess.Result asBob(String... args) throws Exception {
        return BhattiProcess.cli(Map.of("BHATTI_URL", daemon.url(), "BHATTI_TOKEN", bobKey,
                "BHATTI_CONFIG", dataDir.resolve("none.yaml").toString()), args);
    }

    record Http(int status, String body) {}

    /** A request to the proxy with this Host header, by curl (Java's client will not set Host). */
    static Http get(String host, String path, String... extra) throws Exception {
        var cmd = new ArrayList<>(List.of("curl", "-s", "-m", "60", "-o", "-", "-w", "\n%{http_code}", "-H", "Host: " + host));
        cmd.addAll(List.of(extra));
        cmd.add("http://127.0.0.1:" + proxyPort + path);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        int nl = out.lastIndexOf('\n');
        return new Http(Integer.parseInt(out.substring(nl + 1).strip()), out.substring(0, Math.max(nl, 0)).strip());
    }

    /** Appended to a script that starts a server: waits (10 s at most) until {@code port} listens on the guest. */
    static String untilListening(int port) {
        String hex = String.format("%04X", port); // /proc/net/tcp's local_address column: ADDR:PORT in hex
        return " for i in $(seq 100); do awk '$2 ~ /:" + hex + "$/ && $4 == \"0A\" {f = 1} END {exit !f}' /proc/net/tcp && exit 0;"
                + " sleep 0.1; done; exit 1";
    }

    static String sh(String sandbox, String script) throws Exception {
        var r = cli("exec", sandbox, "--", "sh", "-c", script);
        assertThat(r.exit()).as(r.toString()).isZero();
        return r.stdout();
    }

    @Test
    @Order(1)
    void aPublishedPortIsServedAtItsHostName() throws Exception {
        var created = cli("create", "--name", "web", "--memory", "256");
        assertThat(created.exit()).as(created.toString()).isZero();
        sh("web", "mkdir -p /tmp/w && echo web-page > /tmp/w/index.html && head -c 8388608 /dev/urandom > /tmp/w/big.bin"
                + " && busybox httpd -p 3000 -h /tmp/w && busybox httpd -p 4000 -h /tmp/w");
        var pub = cli("publish", "web", "-p", "3000", "--alias", "site", "--json");
        assertThat(pub.exit()).as(pub.toString()).isZero();
        assertThat(json(pub.stdout()).path("url").asString()).isEqualTo("http://site." + DOMAIN + ":" + proxyPort + "/");
        assertThat(get("site." + DOMAIN, "/").body()).isEqualTo("web-page");
        assertThat(get("SITE." + DOMAIN.toUpperCase(), "/").body()).as("host names are case-insensitive").isEqualTo("web-page");
        // a large body streams through intact
        String guestSum = sh("web", "sha256sum /tmp/w/big.bin").split(" ")[0];
        Process p = new ProcessBuilder("sh", "-c", "curl -s -H 'Host: site." + DOMAIN + "' http://127.0.0.1:" + proxyPort
                + "/big.bin | sha256sum").start();
        assertThat(new String(p.getInputStream().readAllBytes()).split(" ")[0]).isEqualTo(guestSum);
        assertThat(cli("publish", "web").stdout()).contains("site").contains("3000");
    }

    @Test
    @Order(2)
    void aliasesAreUniqueAndValidated() throws Exception {
        var again = cli("publish", "web", "-p", "3000", "--alias", "site");
        assertThat(again.exit()).isZero();
        assertThat(again.stdout()).contains("already published");
        assertThat(cli("publish", "web", "-p", "3000", "--alias", "other").stderr()).contains("409");
        var bobweb = asBob("create", "--name", "bobweb", "--memory", "256");
        assertThat(bobweb.exit()).as(bobweb.toString()).isZero();
        var taken = asBob("publish", "bobweb", "-p", "3000", "--alias", "site");
        assertThat(taken.exit()).isNotZero();
        assertThat(taken.stderr()).contains("409").contains("taken");
        assertThat(asBob("publish", "bobweb", "-p", "3000", "--alias", "-bad-").stderr()).contains("400");
        assertThat(asBob("publish", "bobweb", "-p", "3000", "--alias", "www").stderr()).contains("400").contains("reserved");
        assertThat(asBob("publish", "bobweb", "-p", "0").stderr()).contains("400");
        assertThat(asBob("unpublish", "web", "-p", "3000").stderr()).as("another user's sandbox").contains("404");
        var auto = asBob("publish", "bobweb", "-p", "3000", "--json");
        assertThat(json(auto.stdout()).path("alias").asString()).matches("bobweb-[0-9a-f]{6}");
        assertThat(asBob("destroy", "-y", "bobweb").exit()).isZero();
        assertThat(get(json(auto.stdout()).path("alias").asString() + "." + DOMAIN, "/").status()).as("rules go with the sandbox")
                .isEqualTo(404);
    }

    @Test
    @Order(3)
    void onlyPublishedPortsAreReachableWhateverTheHostSays() throws Exception {
        assertThat(get("nope." + DOMAIN, "/").status()).isEqualTo(404);
        assertThat(get("4000.site." + DOMAIN, "/").status()).isEqualTo(404);
        assertThat(get("127.0.0.1", "/").status()).isEqualTo(404);
        assertThat(get("site." + DOMAIN + ".evil.test", "/").status()).isEqualTo(404);
        assertThat(get(DOMAIN, "/").status()).isEqualTo(404);
        // an absolute request target names its own host: it decides, and it is not published
        String raw = rawRequest("GET http://web:4000/ HTTP/1.1\r\nHost: site." + DOMAIN + "\r\nConnection: close\r\n\r\n");
        assertThat(raw).doesNotContain("web-page");
    }

    @Test
    @Order(4)
    void coldAndWarmSandboxesWakeOnTheFirstRequestAndOnlyOnce() throws Exception {
        assertThat(cli("stop", "web").exit()).isZero();
        int wakesBefore = wakes();
        var requests = new ArrayList<CompletableFuture<Http>>();
        for (int i = 0; i < 8; i++) {
            requests.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return get("site." + DOMAIN, "/");
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        for (var r : requests) assertThat(r.get().body()).isEqualTo("web-page");
        assertThat(wakes() - wakesBefore).as("eight first requests, one wake").isEqualTo(1);
        assertThat(json(cli("inspect", "web", "--json").stdout()).path("thermal").asString()).isEqualTo("hot");
        assertThat(cli("pause", "web").exit()).isZero();
        assertThat(get("site." + DOMAIN, "/").body()).isEqualTo("web-page");
        assertThat(json(cli("inspect", "web", "--json").stdout()).path("thermal").asString()).isEqualTo("hot");

        // a port forward opened while hot keeps working across warm and cold, waking the sandbox likewise
        var forward = cli("forward", "web", "3000", "--detach", "--json");
        assertThat(forward.exit()).as(forward.toString()).isZero();
        int hostPort = json(forward.stdout()).path("host_port").asInt();
        // a connection made while hot and used only after a pause (as the proxy's pool does with a spare
        // one) wakes the sandbox with its first bytes: it once waited unanswered (a 504 after 15 s in CI)
        try (var early = new Socket("127.0.0.1", hostPort)) {
            early.setSoTimeout(60_000);
            assertThat(cli("pause", "web").exit()).isZero();
            early.getOutputStream().write("GET / HTTP/1.0\r\nHost: web\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(early.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).endsWith("web-page\n");
        }
        for (String op : List.of("pause", "stop")) {
            assertThat(cli(op, "web").exit()).isZero();
            Process p = new ProcessBuilder("curl", "-s", "-m", "60", "http://127.0.0.1:" + hostPort + "/").start();
            assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip()).as("after " + op).isEqualTo("web-page");
        }
    }

    @Test
    @Order(5)
    void requestsAreBounded() throws Exception {
        Path big = dataDir.resolve("51mb.bin");
        try (var out = Files.newOutputStream(big)) {
            byte[] mb = new byte[1 << 20];
            for (int i = 0; i < 51; i++) out.write(mb);
        }
        assertThat(get("site." + DOMAIN, "/", "--data-binary", "@" + big).status()).as("body over 50 MB").isEqualTo(413);
        assertThat(get("site." + DOMAIN, "/", "-H", "X-Big: " + "x".repeat(20_000)).status()).as("header over 16 KB").isEqualTo(431);
        // a client that stops half-way through its headers is dropped after the idle timeout (2 s here)
        try (var s = new Socket("127.0.0.1", proxyPort)) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: site." + DOMAIN + "\r\nX-Slow: ").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] rest = in.readAllBytes(); // returns once the proxy closes the connection
            assertThat(new String(rest, StandardCharsets.ISO_8859_1)).doesNotContain("web-page");
        }
        assertThat(get("site." + DOMAIN, "/").body()).as("the proxy still serves").isEqualTo("web-page");
    }

    @Test
    @Order(6)
    void webSocketsAreRelayedToTheGuestFrameByFrame() throws Exception {
        WebSocketProbe.startEchoServer(daemon.env, "web", 9000);
        assertThat(cli("publish", "web", "-p", "9000", "--alias", "ws").exit()).isZero();
        assertThat(get("ws." + DOMAIN, "/plain").body()).as("plain HTTP to the same port").isEqualTo("plain /plain");
        String host = "ws." + DOMAIN;
        URI uri = URI.create("ws://127.0.0.1:" + proxyPort + "/chat?room=1");
        try (var client = WebSocketProbe.client(null)) {
            var ws = WebSocketProbe.connect(client, uri, host, List.of("other", "echo.v1"), "sid=42");
            assertThat(ws.session.getUpgradeResponse().getAcceptedSubProtocol()).as("the guest's choice").isEqualTo("echo.v1");
            assertThat(ws.nextText()).as("what the guest's server was told")
                    .isEqualTo("hello host=" + host + " protocol=echo.v1 forwarded-host=" + host + " cookie=sid=42");
            ws.send("hi there");
            assertThat(ws.nextText()).isEqualTo("hi there");
            // a 3 MB message crosses in 1 MB fragments both ways and arrives whole
            byte[] blob = new byte[3 << 20];
            new java.util.Random(7).nextBytes(blob);
            ws.send(blob);
            assertThat(ws.nextBinary()).isEqualTo(blob);
            ws.send("big 2000000");
            byte[] big = ws.nextBinary();
            assertThat(big).hasSize(2_000_000);
            assertThat(big[1_999_999]).isEqualTo((byte) (1_999_999 % 251));
            // pings and pongs pass through, in both directions
            ws.ping("p1");
            assertThat(ws.nextText()).as("the guest's pong to our ping").isEqualTo("pong:p1");
            ws.send("ping from-guest");
            assertThat(ws.nextText()).as("our client's automatic pong reached the guest").isEqualTo("pong from-guest");
            // the guest's close code and reason reach the client
            ws.send("close 4001");
            assertThat(ws.closed.get(60, TimeUnit.SECONDS)).isEqualTo("4001 bye");

            // many at once, each its own connection to the guest
            var many = new ArrayList<CompletableFuture<String>>();
            for (int i = 0; i < 10; i++) {
                int n = i;
                many.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        var c = WebSocketProbe.connect(client, uri, host, List.of(), null);
                        c.nextText();
                        c.send("n" + n);
                        String back = c.nextText();
                        c.session.close();
                        return back;
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }));
            }
            for (int i = 0; i < 10; i++) assertThat(many.get(i).get(120, TimeUnit.SECONDS)).isEqualTo("n" + i);

            // the guest's refusal is the client's; an unpublished host never reaches a guest
            assertThatThrownBy(() -> WebSocketProbe.connect(client, URI.create("ws://127.0.0.1:" + proxyPort + "/reject"), host, List.of(), null))
                    .hasStackTraceContaining("403");
            assertThatThrownBy(() -> WebSocketProbe.connect(client, uri, "nope." + DOMAIN, List.of(), null))
                    .hasStackTraceContaining("404");
        }
    }

    @Test
    @Order(7)
    void destroyingASandboxEndsItsRequestsInFlight() throws Exception {
        // a guest server that accepts and never answers
        sh("web", "nohup perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalPort => 5000, Listen => 5, ReuseAddr => 1) or die;"
                + " while ($c = $s->accept) { push @c, $c; }' >/dev/null 2>&1 &"
                + untilListening(5000)); // a request sent before perl listens would get 502 at once
        assertThat(cli("publish", "web", "-p", "5000", "--alias", "slow").exit()).isZero();
        var inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return get("slow." + DOMAIN, "/");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(2000);
        assertThat(inFlight).isNotDone();
        assertThat(cli("destroy", "-y", "web").exit()).isZero();
        Http r = inFlight.get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(r.status()).as("the in-flight request ends with the sandbox").isIn(0, 502);
        assertThat(get("slow." + DOMAIN, "/").status()).isEqualTo(404);
        assertThat(get("site." + DOMAIN, "/").status()).isEqualTo(404);
    }

    static int wakes() throws Exception {
        var r = BhattiProcess.cli(Map.of(), "admin", "events", "--type", "thermal.wake", "--json", "--data-dir", dataDir.toString());
        return json(r.stdout()).size();
    }

    static String rawRequest(String request) throws Exception {
        try (var s = new Socket("127.0.0.1", proxyPort)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}

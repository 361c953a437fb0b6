package dev.bhatti.cli;

import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import javax.net.ssl.SNIHostName;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTPS for published ports, on a real VM: certificates per alias from a real ACME CA (Debian's
 * pebble, validating over http-01 against the daemon's plain listener), kept across restarts without
 * the CA, WebSockets over TLS, the API and the shared web shell under {@code api_host}, and a provided
 * certificate replaced on disk while the daemon runs.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(DaemonLogOnFailure.class)
class ProxyTlsIT {
    static final String DOMAIN = "tls.test";
    static final String HOST = "shop." + DOMAIN;
    static final String API_HOST = "api." + DOMAIN;
    static Path dataDir;
    static Pebble pebble;
    static BhattiProcess.Daemon daemon;
    static int plainPort;
    static int tlsPort;

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-tls-")
            .before(dir -> {
                plainPort = BhattiProcess.freePort();
                tlsPort = BhattiProcess.freePort();
                pebble = new Pebble(dir.resolve("pebble"), plainPort);
            })
            .config(dir -> config("""
                        api_host: %s
                        acme: {directory: "%s", email: ops@%s, ca_file: "%s"}
                    """.formatted(API_HOST, pebble.directory(), DOMAIN, pebble.listenerCert)))
            .after(() -> {
                if (pebble != null) pebble.close();
            });

    @BeforeAll
    static void setUp() throws Exception {
        dataDir = bhatti.dataDir();
        daemon = bhatti.daemon();
        var create = cli("create", "--name", "site", "--memory", "256");
        assertThat(create.exit()).as(create.toString()).isZero();
        var serve = cli("exec", "site", "--", "sh", "-c", "mkdir -p /tmp/w && echo tls-page > /tmp/w/index.html && busybox httpd -p 3000 -h /tmp/w");
        assertThat(serve.exit()).as(serve.toString()).isZero();
        WebSocketProbe.startEchoServer(daemon.env, "site", 9000);
    }

    static void writeConfig(String tlsSource) throws Exception {
        Files.writeString(dataDir.resolve("config.yaml"), config(tlsSource));
    }

    static String config(String tlsSource) {
        return """
                thermal: {warm_after_sec: 0, cold_after_sec: 0}
                proxy:
                  listen: "127.0.0.1:%d"
                  domain: %s
                  tls:
                    listen: "127.0.0.1:%d"
                %s""".formatted(plainPort, DOMAIN, tlsPort, tlsSource);
    }

    static BhattiProcess.Result cli(String... args) throws Exception { return BhattiProcess.cli(daemon.env, args); }

    static JsonNode json(String s) { return ApiClient.JSON.readTree(s); }

    /** curl to the proxy as {@code host}, trusting {@code ca} only: the body, or curl's failure. */
    static String https(String host, String path, Path ca) throws Exception {
        return curl("-sS", "-m", "60", "--cacert", ca.toString(), "--resolve", host + ":" + tlsPort + ":127.0.0.1",
                "https://" + host + ":" + tlsPort + path);
    }

    static String curl(String... args) throws Exception { return Pebble.curl(args); }

    @Test
    @Order(1)
    void publishingGetsACertificateFromTheCaForThatName() throws Exception {
        var pub = cli("publish", "site", "-p", "3000", "--alias", "shop", "--json");
        assertThat(pub.exit()).as(pub.toString()).isZero();
        JsonNode r = json(pub.stdout());
        assertThat(r.path("url").asString()).isEqualTo("https://" + HOST + ":" + tlsPort + "/");
        assertThat(r.path("certificate").asString()).as(daemonLogTail()).isEqualTo("ready");
        // the chain leads to the CA's root, for this very name
        assertThat(https(HOST, "/", pebble.root())).isEqualTo("tls-page");
        assertThat(curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "-k", "--resolve", HOST + ":" + tlsPort + ":127.0.0.1",
                "https://" + HOST + ":" + tlsPort + "/", "-H", "Host: other." + DOMAIN)).as("no fronting: Host must match SNI").isEqualTo("400");
        Path saved = dataDir.resolve("certs").resolve(HOST + ".pem");
        assertThat(Files.getPosixFilePermissions(saved)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        // plain HTTP is sent to https, method and body kept (308)
        assertThat(curl("-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "-H", "Host: " + HOST,
                "http://127.0.0.1:" + plainPort + "/a?b=1")).isEqualTo("308 https://" + HOST + ":" + tlsPort + "/a?b=1");
        assertThat(curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: elsewhere.test", "http://127.0.0.1:" + plainPort + "/"))
                .isEqualTo("404");
        // a name without a certificate of its own gets the placeholder, and nothing behind it
        assertThat(curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", pebble.root().toString(), "--resolve",
                "nope." + DOMAIN + ":" + tlsPort + ":127.0.0.1", "https://nope." + DOMAIN + ":" + tlsPort + "/")).isEqualTo("000");
    }

    @Test
    @Order(2)
    void webSocketsWorkOverTls() throws Exception {
        assertThat(cli("publish", "site", "-p", "9000", "--alias", "live").exit()).isZero();
        String host = "live." + DOMAIN;
        try (var client = WebSocketProbe.client(trustingPebble(host))) {
            var ws = WebSocketProbe.connect(client, URI.create("wss://127.0.0.1:" + tlsPort + "/"), host, List.of("echo.v1"), null);
            assertThat(ws.nextText()).startsWith("hello host=" + host + " protocol=echo.v1");
            ws.send("over tls");
            assertThat(ws.nextText()).isEqualTo("over tls");
            ws.session.close();
        }
    }

    /** An HTTP client for 127.0.0.1 that trusts pebble's root only and asks for {@code host} by SNI. */
    static HttpClient trustingPebble(String host) throws Exception {
        var ssl = new SslContextFactory.Client();
        var trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (var in = Files.newInputStream(pebble.root())) {
            trust.setCertificateEntry("pebble", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        ssl.setTrustStore(trust);
        ssl.setSNIProvider((engine, names) -> List.of(new SNIHostName(host)));
        ssl.setEndpointIdentificationAlgorithm(null); // we connect to 127.0.0.1; the SNI name is what the proxy certifies
        var http = new HttpClient();
        http.setSslContextFactory(ssl);
        return http;
    }

    @Test
    @Order(3)
    void theApiAndItsSharedShellAreServedOverHttpsUnderTheApiHost() throws Exception {
        String key = daemon.apiKey();
        // the API itself, with the CA's certificate for its name; without a key it answers as the API does
        String list = curl("-sS", "-m", "60", "--cacert", pebble.root().toString(), "--resolve", API_HOST + ":" + tlsPort + ":127.0.0.1",
                "-H", "Authorization: Bearer " + key, "https://" + API_HOST + ":" + tlsPort + "/sandboxes");
        assertThat(json(list).findValuesAsString("name")).contains("site");
        assertThat(curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", pebble.root().toString(), "--resolve",
                API_HOST + ":" + tlsPort + ":127.0.0.1", "https://" + API_HOST + ":" + tlsPort + "/sandboxes")).isEqualTo("401");
        assertThat(curl("-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "-H", "Host: " + API_HOST,
                "http://127.0.0.1:" + plainPort + "/health")).as("never in the clear").isEqualTo("308 https://" + API_HOST + ":" + tlsPort + "/health");

        // a shared shell's link is on the https name, and the page and its terminal work through it
        var share = cli("share", "site", "--json");
        assertThat(share.exit()).as(share.toString()).isZero();
        String url = json(share.stdout()).path("url").asString();
        assertThat(url).startsWith("https://" + API_HOST + ":" + tlsPort + "/_shell/");
        String page = url.substring(0, url.indexOf('#'));
        String token = url.substring(url.indexOf("#token=") + 7);
        assertThat(curl("-sS", "-m", "60", "--cacert", pebble.root().toString(), "--resolve", API_HOST + ":" + tlsPort + ":127.0.0.1", page))
                .contains("xterm");
        String wsPath = URI.create(page).getPath() + "/ws";
        try (var client = WebSocketProbe.client(trustingPebble(API_HOST))) {
            var ws = WebSocketProbe.connect(client, URI.create("wss://127.0.0.1:" + tlsPort + wsPath), API_HOST, List.of(), null);
            ws.send("{\"type\":\"auth\",\"token\":\"" + token + "\"}");
            ws.send("echo over-$((6*7))-tls\r".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            var seen = new StringBuilder();
            while (!seen.toString().contains("over-42-tls")) {
                Object m = ws.next();
                seen.append(m instanceof byte[] b ? new String(b, java.nio.charset.StandardCharsets.UTF_8) : m + "\n");
            }
            ws.session.close();
        }
    }

    @Test
    @Order(4)
    void aRestartServesTheSavedCertificatesWithoutTheCa() throws Exception {
        String before = servedSerial(HOST);
        assertThat(before).startsWith("serial=");
        daemon.stop();
        pebble.close();
        daemon.start();
        assertThat(https(HOST, "/", pebble.root())).isEqualTo("tls-page");
        assertThat(servedSerial(HOST)).as("the same certificate, from certs/").isEqualTo(before);
    }

    @Test
    @Order(5)
    void unpublishingDropsTheNamesCertificate() throws Exception {
        Path live = dataDir.resolve("certs").resolve("live." + DOMAIN + ".pem");
        assertThat(live).as("saved when published in step 2").exists();
        var un = cli("unpublish", "site", "-p", "9000");
        assertThat(un.exit()).as(un.toString()).isZero();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> !Files.exists(live));
        assertThat(curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", pebble.root().toString(), "--resolve",
                "live." + DOMAIN + ":" + tlsPort + ":127.0.0.1", "https://live." + DOMAIN + ":" + tlsPort + "/"))
                .as("its certificate is no longer served").isEqualTo("000");
        assertThat(https(HOST, "/", pebble.root())).as("the name still published keeps its own").isEqualTo("tls-page");
        assertThat(dataDir.resolve("certs").resolve(HOST + ".pem")).exists();
        assertThat(dataDir.resolve("certs").resolve(API_HOST + ".pem")).as("the API's name is not an alias; its certificate stays").exists();
    }

    @Test
    @Order(6)
    void aProvidedCertificateIsReplacedOnDiskWhileServing() throws Exception {
        Path tls = Files.createDirectories(dataDir.resolve("given"));
        Path ca1 = TestCertificates.ca(tls, "ca1");
        TestCertificates.leaf(tls, "ca1", "one", "*." + DOMAIN);
        Path ca2 = TestCertificates.ca(tls, "ca2");
        TestCertificates.leaf(tls, "ca2", "two", "*." + DOMAIN);
        Path cert = tls.resolve("fullchain.pem");
        Path key = tls.resolve("privkey.pem");
        Files.copy(tls.resolve("one.crt"), cert);
        Files.copy(tls.resolve("one.key"), key);
        daemon.stop();
        writeConfig("""
                    cert_file: "%s"
                    key_file: "%s"
                    reload_check_sec: 0.5
                """.formatted(cert, key));
        daemon.start();
        assertThat(https(HOST, "/", ca1)).as("one wildcard certificate for every alias").isEqualTo("tls-page");
        var again = cli("publish", "site", "-p", "9000", "--alias", "live"); // unpublished in step 5; served at once
        assertThat(again.exit()).as(again.toString()).isZero();
        assertThat(https("live." + DOMAIN, "/plain", ca1)).isEqualTo("plain /plain");

        // half a rotation (the new certificate, the old key) is not taken: the old pair keeps serving
        replace(tls.resolve("two.crt"), cert);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> daemon.log().contains("not taken"));
        assertThat(https(HOST, "/", ca1)).isEqualTo("tls-page");
        // the key follows: the new pair is served from the next check on, without a restart
        replace(tls.resolve("two.key"), key);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> https(HOST, "/", ca2).equals("tls-page"));
        assertThat(https(HOST, "/", ca1)).as("the old CA no longer matches").doesNotContain("tls-page");

        // garbage in the files: refused (a second "not taken" in the log), and the current certificate stays
        Files.writeString(cert, "not a certificate\n");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
                .until(() -> daemon.log().split("not taken", -1).length - 1 >= 2);
        assertThat(https(HOST, "/", ca2)).isEqualTo("tls-page");
    }

    /** Replaces a file the way certbot does: a new file renamed over the old. */
    static void replace(Path from, Path to) throws Exception {
        Path tmp = to.resolveSibling(to.getFileName() + ".new");
        Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static String daemonLogTail() throws Exception {
        String log = daemon.log();
        return log.substring(Math.max(0, log.length() - 3000));
    }

    /** The serial number of the certificate the proxy presents for {@code host}. */
    static String servedSerial(String host) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", "openssl s_client -connect 127.0.0.1:" + tlsPort + " -servername " + host
                + " </dev/null 2>/dev/null | openssl x509 -noout -serial").start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        p.waitFor();
        return out;
    }
}

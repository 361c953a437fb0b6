package dev.bhatti.cli;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Debian's pebble, a real ACME CA for tests, with pebble-challtestsrv as its DNS: every name resolves
 * to 127.0.0.1, so the CA's http-01 checks reach the daemon's plain listener on {@code httpPort}.
 */
final class Pebble implements AutoCloseable {
    final Path dir;
    final int directoryPort;
    final int managementPort;
    /** The CA's own HTTPS certificate (what the daemon must trust to talk to it). */
    final Path listenerCert;
    private final Process dns;
    private final Process ca;

    Pebble(Path dir, int httpPort) throws Exception { this(dir, httpPort, 0); }

    /** {@code validitySeconds}: how long the certificates it issues are valid; 0 for pebble's default (5 years). */
    Pebble(Path dir, int httpPort, long validitySeconds) throws Exception {
        this.dir = Files.createDirectories(dir);
        TestCertificates.ca(dir, "pebble-listener-ca");
        this.listenerCert = dir.resolve("pebble-listener-ca.crt");
        TestCertificates.leaf(dir, "pebble-listener-ca", "listener", "localhost", "127.0.0.1");
        this.directoryPort = BhattiProcess.freePort();
        this.managementPort = BhattiProcess.freePort();
        int dnsPort = BhattiProcess.freePort();
        Files.writeString(dir.resolve("pebble.json"), """
                {"pebble": {"listenAddress": "127.0.0.1:%d", "managementListenAddress": "127.0.0.1:%d",
                 "certificate": "%s", "privateKey": "%s", "httpPort": %d, "tlsPort": %d,
                 "ocspResponderURL": "", "externalAccountBindingRequired": false%s}}
                """.formatted(directoryPort, managementPort, dir.resolve("listener.crt"), dir.resolve("listener.key"), httpPort,
                BhattiProcess.freePort(), validitySeconds > 0 ? ", \"certificateValidityPeriod\": " + validitySeconds : ""));
        dns = new ProcessBuilder("pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dns01", "127.0.0.1:" + dnsPort,
                "-http01", "", "-https01", "", "-tlsalpn01", "", "-management", "127.0.0.1:" + BhattiProcess.freePort())
                .redirectErrorStream(true).redirectOutput(dir.resolve("challtestsrv.log").toFile()).start();
        var pb = new ProcessBuilder("pebble", "-config", dir.resolve("pebble.json").toString(), "-dnsserver", "127.0.0.1:" + dnsPort)
                .redirectErrorStream(true).redirectOutput(dir.resolve("pebble.log").toFile());
        pb.environment().put("PEBBLE_VA_NOSLEEP", "1");      // validate at once
        pb.environment().put("PEBBLE_WFE_NONCEREJECT", "0"); // no random bad-nonce answers
        ca = pb.start();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> curl("-s", "-o", "/dev/null", "-w", "%{http_code}",
                "--cacert", listenerCert.toString(), directory().toString()).equals("200"));
        Files.writeString(dir.resolve("root.pem"), curl("-s", "--cacert", listenerCert.toString(),
                "https://127.0.0.1:" + managementPort + "/roots/0") + "\n");
    }

    URI directory() { return URI.create("https://127.0.0.1:" + directoryPort + "/dir"); }

    /** The root that signs what pebble issues (made anew at each start). */
    Path root() { return dir.resolve("root.pem"); }

    /** curl's output, its error messages included (with -sS), stripped. */
    static String curl(String... args) throws IOException, InterruptedException {
        var cmd = new java.util.ArrayList<>(List.of("curl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return out.strip();
    }

    @Override
    public void close() {
        ca.destroy();
        dns.destroy();
    }
}

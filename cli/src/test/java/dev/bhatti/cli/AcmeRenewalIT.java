package dev.bhatti.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ACME renewal against a real CA, without a VM: pebble issues certificates valid for 90 seconds, and the
 * daemon, which keeps one for {@code proxy.tls.api_host}, must renew it on its own before it expires
 * (a third of its life before), serve the new one and save it for the next start.
 */
@ExtendWith(DaemonLogOnFailure.class)
class AcmeRenewalIT {
    static final String API_HOST = "api.renew.test";
    static final long VALIDITY_SECONDS = 90;
    static Path dataDir;
    static Pebble pebble;
    static BhattiProcess.Daemon daemon;
    static int tlsPort;
    static int plainPort;

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-renew-")
            .before(dir -> {
                plainPort = BhattiProcess.freePort();
                tlsPort = BhattiProcess.freePort();
                pebble = new Pebble(dir.resolve("pebble"), plainPort, VALIDITY_SECONDS);
            })
            .config(dir -> """
                    proxy:
                      listen: "127.0.0.1:%d"
                      domain: renew.test
                      tls:
                        listen: "127.0.0.1:%d"
                        api_host: %s
                        acme: {directory: "%s", ca_file: "%s"}
                    """.formatted(plainPort, tlsPort, API_HOST, pebble.directory(), pebble.listenerCert))
            .after(() -> {
                if (pebble != null) pebble.close();
            });

    @BeforeAll
    static void setUp() {
        dataDir = bhatti.dataDir();
        daemon = bhatti.daemon();
    }

    @Test
    void aShortLivedCertificateIsRenewedBeforeItExpires() throws Exception {
        X509Certificate first = awaitServed(c -> c.getIssuerX500Principal().getName().contains("Pebble"), Duration.ofSeconds(60));
        assertThat(Duration.between(first.getNotBefore().toInstant(), first.getNotAfter().toInstant()).toSeconds())
                .as("pebble issued a short-lived certificate").isLessThanOrEqualTo(VALIDITY_SECONDS + 1);
        assertThat(apiStatus()).as("the API answers over it, trusting pebble's root only").isEqualTo("401");

        // due with 30 s left: a new certificate comes without anyone asking, before the first expires
        X509Certificate second = awaitServed(c -> !c.getSerialNumber().equals(first.getSerialNumber()), Duration.ofSeconds(VALIDITY_SECONDS + 30));
        assertThat(second.getNotAfter()).isAfter(first.getNotAfter());
        assertThat(second.getNotBefore().toInstant()).as("renewed before the first expired").isBefore(first.getNotAfter().toInstant());
        assertThat(apiStatus()).isEqualTo("401");
        String saved = Files.readString(dataDir.resolve("certs").resolve(API_HOST + ".pem")).replaceAll("\\s", "");
        assertThat(saved).as("saved for the next start").contains(java.util.Base64.getEncoder().encodeToString(second.getEncoded()));
    }

    /** Waits for the certificate the proxy presents for the API host to satisfy {@code wanted}. */
    static X509Certificate awaitServed(java.util.function.Predicate<X509Certificate> wanted, Duration atMost) {
        var seen = new X509Certificate[1];
        org.awaitility.Awaitility.await().atMost(atMost).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().untilAsserted(() -> {
            seen[0] = served();
            assertThat(seen[0]).as("served for " + API_HOST).matches(wanted::test, "wanted");
        });
        return seen[0];
    }

    static X509Certificate served() throws Exception {
        Process p = new ProcessBuilder("sh", "-c", "openssl s_client -connect 127.0.0.1:" + tlsPort + " -servername " + API_HOST
                + " </dev/null 2>/dev/null | openssl x509").start();
        byte[] pem = p.getInputStream().readAllBytes();
        p.waitFor();
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(pem));
    }

    static String apiStatus() throws Exception {
        return Pebble.curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "20", "--cacert", pebble.root().toString(),
                "--resolve", API_HOST + ":" + tlsPort + ":127.0.0.1", "https://" + API_HOST + ":" + tlsPort + "/sandboxes");
    }
}

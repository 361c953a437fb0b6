package dev.bhatti.server.tls;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PemTest {
    @TempDir Path dir;

    @Test
    void aSavedKeyAndChainReadBackFromOneFile() throws Exception {
        var pair = ProxyCertificates.selfSigned("example.test");
        Path f = dir.resolve("host.pem");
        Pem.write(f, pair);
        assertThat(Files.getPosixFilePermissions(f)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        var back = Pem.read(f, f);
        assertThat(back.leaf()).isEqualTo(pair.leaf());
        assertThat(back.key().getEncoded()).isEqualTo(pair.key().getEncoded());
    }

    @Test
    void aKeyThatIsNotTheCertificatesIsRefused() throws Exception {
        var one = ProxyCertificates.selfSigned("one.test");
        var two = ProxyCertificates.selfSigned("two.test");
        assertThatThrownBy(() -> Pem.requireMatch(new Pem.KeyAndChain(one.key(), two.chain()))).isInstanceOf(IOException.class)
                .hasMessageContaining("does not belong");
    }

    @Test
    void opensslsFormsAreRead() throws Exception {
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "k.pem", "-out", "c.pem", "-days", "1", "-subj", "/CN=x.test").directory(dir.toFile()).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor()).isZero();
        // and the older "EC PRIVATE KEY" form
        Process q = new ProcessBuilder("openssl", "ec", "-in", "k.pem", "-out", "k-sec1.pem").directory(dir.toFile()).redirectErrorStream(true).start();
        q.getInputStream().readAllBytes();
        assertThat(q.waitFor()).isZero();
        assertThat(Files.readString(dir.resolve("k-sec1.pem"))).contains("BEGIN EC PRIVATE KEY");
        assertThat(Pem.read(dir.resolve("k.pem"), dir.resolve("c.pem")).leaf().getSubjectX500Principal().getName()).isEqualTo("CN=x.test");
        assertThat(Pem.read(dir.resolve("k-sec1.pem"), dir.resolve("c.pem")).chain()).hasSize(1);
    }

    @Test
    void aCertificateCoversItsNamesAndAWildcardOneLabelDeep() {
        var wildcard = ProxyCertificates.selfSigned("*.Apps.Example.com").leaf();
        assertThat(Pem.dnsNames(wildcard)).containsExactly("*.apps.example.com");
        assertThat(Pem.covers(wildcard, "web.apps.example.com")).isTrue();
        assertThat(Pem.covers(wildcard, "WEB.apps.example.com")).isTrue();
        assertThat(Pem.covers(wildcard, "*.apps.example.com")).isTrue();
        assertThat(Pem.covers(wildcard, "apps.example.com")).as("not the domain itself").isFalse();
        assertThat(Pem.covers(wildcard, "a.b.apps.example.com")).as("one label only").isFalse();
        assertThat(Pem.covers(wildcard, "web.apps.example.org")).isFalse();

        var api = ProxyCertificates.selfSigned("api.example.org").leaf();
        assertThat(Pem.covers(api, "api.example.org")).isTrue();
        assertThat(Pem.covers(api, "*.example.org")).as("a host does not cover a wildcard").isFalse();
        assertThat(Pem.covers(api, "x.api.example.org")).isFalse();
    }

    @Test
    void aProvidedCertificateSaysWhichServedNamesItLeavesOut() {
        var served = List.of("*.apps.example.com", "api.example.org");
        assertThat(ProvidedCertificate.uncovered(ProxyCertificates.selfSigned("*.apps.example.com"), served)).containsExactly("api.example.org");
        assertThat(ProvidedCertificate.uncovered(ProxyCertificates.selfSigned("api.example.org"), served)).containsExactly("*.apps.example.com");
        assertThat(ProvidedCertificate.uncovered(ProxyCertificates.selfSigned("*.apps.example.com"), List.of("*.apps.example.com"))).isEmpty();
    }

    @Test
    void garbageIsAClearError() {
        assertThatThrownBy(() -> Pem.certificates("not a certificate\n")).hasMessageContaining("no certificate");
        assertThatThrownBy(() -> Pem.key("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")).isInstanceOf(IOException.class);
    }

    @Test
    void anAccountKeyPairSurvivesAWriteAndARead() throws Exception {
        var pair = ProxyCertificates.newKeyPair();
        Path f = dir.resolve("account.pem");
        Pem.writeKeyPair(f, pair);
        var back = Pem.keyPair(f);
        assertThat(back.getPublic().getEncoded()).isEqualTo(pair.getPublic().getEncoded());
        assertThat(back.getPrivate().getEncoded()).isEqualTo(pair.getPrivate().getEncoded());
        assertThatThrownBy(() -> Pem.writeKeyPair(f, pair)).as("never replaced").isInstanceOf(java.nio.file.FileAlreadyExistsException.class);
    }

    @Test
    void renewalComesWithThirtyDaysOrAThirdOfTheLifeLeft() throws Exception {
        X509Certificate cert = ProxyCertificates.selfSigned("r.test").leaf(); // valid for ten years
        Instant end = cert.getNotAfter().toInstant();
        assertThat(AcmeCertificates.dueForRenewal(cert, end.minus(Duration.ofDays(31)))).isFalse();
        assertThat(AcmeCertificates.dueForRenewal(cert, end.minus(Duration.ofDays(29)))).isTrue();
        assertThat(AcmeCertificates.dueForRenewal(cert, end.plus(Duration.ofDays(1)))).isTrue();
    }

    @Test
    void theNextCheckComesWhenTheFirstCertificateFallsDueAndAtLeastTwiceADay() throws Exception {
        X509Certificate tenYears = ProxyCertificates.selfSigned("r.test").leaf();
        Instant due = tenYears.getNotAfter().toInstant().minus(Duration.ofDays(30));
        assertThat(AcmeCertificates.untilNextCheck(List.of(), false, Instant.now())).isEqualTo(AcmeCertificates.CHECK_EVERY);
        assertThat(AcmeCertificates.untilNextCheck(List.of(tenYears), false, Instant.now())).as("far off: the regular check")
                .isEqualTo(AcmeCertificates.CHECK_EVERY);
        assertThat(AcmeCertificates.untilNextCheck(List.of(tenYears), false, due.minus(Duration.ofMinutes(5)))).as("due in 5 minutes")
                .isEqualTo(Duration.ofMinutes(5));
        assertThat(AcmeCertificates.untilNextCheck(List.of(tenYears), false, due.plus(Duration.ofMinutes(5)))).as("due, its renewal failed")
                .isEqualTo(AcmeCertificates.RETRY_FAILED);
        assertThat(AcmeCertificates.untilNextCheck(List.of(tenYears), false, due.minusMillis(10))).as("never a busy loop")
                .isEqualTo(Duration.ofSeconds(1));
        assertThat(AcmeCertificates.untilNextCheck(List.of(tenYears), true, Instant.now())).as("a name still without one")
                .isEqualTo(AcmeCertificates.RETRY_FAILED);
    }
}

package dev.bhatti.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Certificates made with openssl for the TLS tests: a CA, and certificates it signs. */
final class TestCertificates {
    private TestCertificates() {}

    /** A self-signed CA: {@code <dir>/<name>.crt} and {@code <name>.key}. Returns the certificate. */
    static Path ca(Path dir, String name) throws Exception {
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", name + ".key", "-out", name + ".crt", "-days", "30", "-subj", "/CN=" + name,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        return dir.resolve(name + ".crt");
    }

    /** A certificate for {@code names} (DNS or IP), signed by CA {@code ca}: {@code <dir>/<name>.crt} and {@code .key}. */
    static Path leaf(Path dir, String ca, String name, String... names) throws Exception {
        var san = new ArrayList<String>();
        for (String n : names) san.add((n.matches("[0-9.]+") ? "IP:" : "DNS:") + n);
        Files.writeString(dir.resolve(name + ".ext"), "subjectAltName=" + String.join(",", san) + "\n");
        openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", name + ".key",
                "-out", name + ".csr", "-subj", "/CN=" + names[0]);
        openssl(dir, "x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-CAcreateserial",
                "-out", name + ".crt", "-days", "30", "-extfile", name + ".ext");
        return dir.resolve(name + ".crt");
    }

    static void openssl(Path dir, String... args) throws IOException, InterruptedException {
        var cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new AssertionError("openssl " + String.join(" ", args) + " failed:\n" + out);
    }
}

package dev.bhatti.server.tls;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * A certificate given as files (certbot's fullchain.pem and privkey.pem, say): loaded at start and
 * again whenever either file changes, checked every {@code reload_check_sec}. Polling rather than a
 * directory watch, because renewals usually swap symlinks. A half-written or mismatched pair (the
 * certificate renewed, its key not yet) is not taken: the old certificate stays until the pair is whole.
 */
public final class ProvidedCertificate implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProvidedCertificate.class);

    private final Path certFile;
    private final Path keyFile;
    /** What the proxy serves under this certificate: {@code *.<domain>}, and the API's host name if set. */
    private final List<String> names;
    private final ProxyCertificates certificates;
    private final Thread watcher;
    private volatile String seen;
    /** The files as they were when last refused: not tried (nor warned about) again until they change. */
    private volatile String refused;

    /** Loads the files (a failure here stops the daemon: it names the file and the reason) and watches them. */
    public ProvidedCertificate(Path certFile, Path keyFile, List<String> names, Duration every, ProxyCertificates certificates)
            throws IOException {
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.names = List.copyOf(names);
        this.certificates = certificates;
        this.seen = stamp();
        try {
            take(Pem.read(keyFile, certFile));
        } catch (IOException e) {
            throw new IOException("proxy.tls: cannot use " + certFile + " with " + keyFile + ": " + e.getMessage(), e);
        }
        this.watcher = Thread.ofVirtual().name("tls-reload").start(() -> watch(every));
    }

    private void watch(Duration every) {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(every);
                checkNow();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Takes the files if they changed since last time and form a valid pair. */
    void checkNow() {
        String now;
        try {
            now = stamp();
        } catch (IOException e) {
            log.warn("TLS certificate files unreadable, keeping the current certificate: {}", e.getMessage());
            return;
        }
        if (now.equals(seen) || now.equals(refused)) return;
        try {
            take(Pem.read(keyFile, certFile));
            seen = now;
        } catch (IOException | RuntimeException e) {
            refused = now; // the rotation may not be finished: the next change is tried again
            log.warn("new TLS certificate files not taken, keeping the current certificate: {}", e.getMessage());
        }
    }

    /**
     * Serves the pair; a certificate that leaves out a name the proxy serves is still taken (the other
     * names work), but said loudly: browsers refuse https for that name.
     */
    private void take(Pem.KeyAndChain pair) {
        certificates.setDefault(pair);
        List<String> missing = uncovered(pair, names);
        if (!missing.isEmpty()) {
            log.warn("proxy.tls: the certificate in {} does not cover {} (it is for {}): browsers will refuse https there. "
                    + "Get a certificate that includes {}, or use proxy.tls.acme", certFile, String.join(", ", missing),
                    Pem.dnsNames(pair.leaf()), missing.size() == 1 ? "it" : "them");
        }
    }

    /** Which of {@code names} the pair's certificate is not valid for. */
    static List<String> uncovered(Pem.KeyAndChain pair, List<String> names) {
        return names.stream().filter(n -> !Pem.covers(pair.leaf(), n)).toList();
    }

    /** What changes when either file is replaced, rewritten or re-pointed. */
    private String stamp() throws IOException {
        return stamp(certFile) + "|" + stamp(keyFile);
    }

    private static String stamp(Path f) throws IOException {
        var a = Files.readAttributes(f, BasicFileAttributes.class);
        return a.lastModifiedTime().toMillis() + ":" + a.size() + ":" + a.fileKey();
    }

    @Override
    public void close() { watcher.interrupt(); }
}

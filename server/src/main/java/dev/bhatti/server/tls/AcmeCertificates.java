package dev.bhatti.server.tls;

import dev.bhatti.server.publish.HostCertificates;
import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Login;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.Problem;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.Status;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.challenge.Http01Challenge;
import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.provider.GenericAcmeProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.security.GeneralSecurityException;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * A certificate per published host name from an ACME CA, validated over http-01 (the plain listener
 * answers the challenges). Issued when a port is published, renewed when a third of its life or 30
 * days are left (whichever is sooner), checked at start, when the next certificate falls due and at
 * least every 12 hours (a failed renewal is tried again within the hour), and removed once the
 * name is no longer published. Keys and chains live in {@code <data>/certs} (0600), so a restart
 * serves them at once without asking the CA again. One issuance per name runs at a time.
 */
public final class AcmeCertificates implements HostCertificates, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AcmeCertificates.class);
    static final Duration CHECK_EVERY = Duration.ofHours(12);
    /** A renewal that failed is tried again after this long (CAs limit failed validations, LE to 5 an hour). */
    static final Duration RETRY_FAILED = Duration.ofHours(1);
    /** How long one pass waits for the issuances it started before it plans the next. */
    private static final Duration PASS_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(90);
    private static final String ACCOUNT_FILE = "account.pem";

    private final TlsConfig.Acme config;
    private final Path dir;
    private final ProxyCertificates certificates;
    private final AcmeChallenges challenges;
    private final Supplier<List<String>> publishedHosts;
    private final Map<String, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private Login login;
    private Thread maintenance;

    public AcmeCertificates(TlsConfig.Acme config, Path dir, ProxyCertificates certificates, AcmeChallenges challenges,
                            Supplier<List<String>> publishedHosts) {
        this.config = config;
        this.dir = dir;
        this.certificates = certificates;
        this.challenges = challenges;
        this.publishedHosts = publishedHosts;
    }

    /** Serves the certificates on disk, then (in the background) gets the missing ones and keeps them fresh. */
    public void start() throws IOException {
        Files.createDirectories(dir);
        for (var saved : savedCertificates().entrySet()) {
            try {
                certificates.set(saved.getKey(), Pem.read(saved.getValue(), saved.getValue()));
            } catch (IOException | RuntimeException e) {
                log.warn("ignoring the unusable certificate file {}: {}", saved.getValue(), e.getMessage());
            }
        }
        maintenance = Thread.ofVirtual().name("acme-maintenance").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    maintain();
                    var hosts = Set.copyOf(publishedHosts.get());
                    var held = hosts.stream().map(certificates::get).filter(Objects::nonNull).map(Pem.KeyAndChain::leaf).toList();
                    Thread.sleep(untilNextCheck(held, held.size() < hosts.size(), Instant.now()));
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    log.warn("planning the next ACME check: {}", e.getMessage());
                    try {
                        Thread.sleep(RETRY_FAILED);
                    } catch (InterruptedException stop) {
                        return;
                    }
                }
            }
        });
    }

    /**
     * Gets certificates for published names that lack a fresh one and waits for them (so the next check
     * is planned from what is held afterwards); drops those of names no longer published.
     */
    void maintain() throws InterruptedException {
        try {
            var issuing = new HashSet<String>(publishedHosts.get()).stream().map(this::ensure).toArray(CompletableFuture[]::new);
            CompletableFuture.allOf(issuing).get(PASS_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            // each failure was logged by its issuance; the next check retries
        } catch (RuntimeException e) {
            log.warn("checking the ACME certificates: {}", e.getMessage());
        }
        dropUnpublished();
    }

    /**
     * How long to sleep before the next check: until the next certificate falls due, at most
     * {@link #CHECK_EVERY}. One already due (its renewal just failed), or a name still without one
     * ({@code missing}), is tried again after {@link #RETRY_FAILED}. Short-lived certificates (days,
     * or minutes from a test CA) so renew on time.
     */
    static Duration untilNextCheck(List<X509Certificate> held, boolean missing, Instant now) {
        Duration next = missing ? RETRY_FAILED : CHECK_EVERY;
        for (X509Certificate cert : held) {
            Duration left = Duration.between(now, renewalDue(cert));
            Duration wait = left.isNegative() || left.isZero() ? RETRY_FAILED : left;
            if (wait.compareTo(next) < 0) next = wait;
        }
        return next.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : next;
    }

    @Override
    public void released() {
        executor.execute(this::dropUnpublished);
    }

    /**
     * Deletes the saved and served certificates of names no longer published. The files are listed
     * before the names are read: a certificate saved meanwhile belongs to a name published before it.
     */
    private void dropUnpublished() {
        try {
            var saved = savedCertificates();
            var hosts = new HashSet<>(publishedHosts.get());
            for (var s : saved.entrySet()) {
                if (hosts.contains(s.getKey())) continue;
                Files.deleteIfExists(s.getValue());
                certificates.set(s.getKey(), null);
                log.info("dropped the certificate of {}: no longer published", s.getKey());
            }
        } catch (IOException | RuntimeException e) {
            log.warn("dropping the certificates of unpublished names: {}", e.getMessage());
        }
    }

    /** The certificate files in certs/ ({@code <host>.pem}; account.pem is the account's key), by host name. */
    private Map<String, Path> savedCertificates() throws IOException {
        var byHost = new TreeMap<String, Path>();
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (name.endsWith(".pem") && !name.equals(ACCOUNT_FILE)) byHost.put(name.substring(0, name.length() - 4), f);
            }
        }
        return byHost;
    }

    @Override
    public synchronized CompletableFuture<Void> ensure(String host) {
        var current = certificates.get(host);
        if (current != null && !dueForRenewal(current.leaf(), Instant.now())) return CompletableFuture.completedFuture(null);
        var running = inFlight.get(host);
        if (running != null && !running.isDone()) return running;
        var issuing = CompletableFuture.runAsync(() -> issue(host), executor);
        inFlight.put(host, issuing);
        return issuing;
    }

    static boolean dueForRenewal(X509Certificate cert, Instant now) { return !now.isBefore(renewalDue(cert)); }

    /** Renewed with 30 days left, or a third of its life for short-lived certificates. */
    static Instant renewalDue(X509Certificate cert) {
        Instant from = cert.getNotBefore().toInstant();
        Instant until = cert.getNotAfter().toInstant();
        Duration margin = Duration.between(from, until).dividedBy(3);
        if (margin.compareTo(Duration.ofDays(30)) > 0) margin = Duration.ofDays(30);
        return until.minus(margin);
    }

    private void issue(String host) {
        try {
            Order order = login().getAccount().newOrder().domain(host).create();
            for (Authorization auth : order.getAuthorizations()) {
                if (auth.getStatus() == Status.VALID) continue;
                Http01Challenge challenge = auth.findChallenge(Http01Challenge.class)
                        .orElseThrow(() -> new AcmeException("the CA offers no http-01 challenge for " + host));
                challenges.put(challenge.getToken(), challenge.getAuthorization());
                try {
                    challenge.trigger();
                    if (auth.waitForCompletion(STEP_TIMEOUT) != Status.VALID) {
                        throw new AcmeException("the CA could not validate " + host + ": "
                                + challenge.getError().map(Problem::toString).orElse("no reason given"));
                    }
                } finally {
                    challenges.remove(challenge.getToken());
                }
            }
            order.waitUntilReady(STEP_TIMEOUT);
            KeyPair keys = ProxyCertificates.newKeyPair();
            order.execute(keys);
            if (order.waitForCompletion(STEP_TIMEOUT) != Status.VALID) {
                throw new AcmeException("the order for " + host + " failed: " + order.getError().map(Problem::toString).orElse("no reason given"));
            }
            var pair = new Pem.KeyAndChain(keys.getPrivate(), order.getCertificate().getCertificateChain());
            Pem.write(dir.resolve(host + ".pem"), pair);
            certificates.set(host, pair);
        } catch (AcmeException | IOException e) {
            log.warn("no certificate for {}: {}", host, e.getMessage());
            throw new CompletionException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompletionException(e);
        }
    }

    /** The account, registered on first use with a key kept in certs/account.pem. */
    private synchronized Login login() throws AcmeException, IOException {
        if (login != null) return login;
        Path keyFile = dir.resolve(ACCOUNT_FILE);
        if (!Files.exists(keyFile)) Pem.writeKeyPair(keyFile, ProxyCertificates.newKeyPair());
        KeyPair account = Pem.keyPair(keyFile);
        var session = new Session(config.directory(), new TrustingProvider(trust(config.caFile())));
        var builder = new AccountBuilder().agreeToTermsOfService().useKeyPair(account);
        if (config.email() != null) builder.addEmail(config.email());
        login = builder.createLogin(session);
        log.info("ACME account {} at {}", login.getAccountLocation(), config.directory());
        return login;
    }

    /** The JDK's trusted CAs, plus {@code caFile}'s if given (a test CA's directory, say). */
    static SSLContext trust(Path caFile) throws IOException {
        try {
            if (caFile == null) return SSLContext.getDefault();
            var jdk = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            jdk.init((KeyStore) null);
            KeyStore anchors = KeyStore.getInstance("PKCS12");
            anchors.load(null, null);
            int i = 0;
            for (var tm : jdk.getTrustManagers()) {
                if (tm instanceof X509TrustManager x) for (X509Certificate c : x.getAcceptedIssuers()) anchors.setCertificateEntry("jdk-" + i++, c);
            }
            for (X509Certificate c : Pem.certificates(Files.readString(caFile, StandardCharsets.US_ASCII))) anchors.setCertificateEntry("extra-" + i++, c);
            var tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(anchors);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IOException("proxy.tls.acme.ca_file: " + e.getMessage(), e);
        }
    }

    /** acme4j's generic provider with our trust for the CA's own HTTPS. */
    private static final class TrustingProvider extends GenericAcmeProvider {
        private final SSLContext ssl;

        TrustingProvider(SSLContext ssl) { this.ssl = ssl; }

        @Override
        public HttpClient createHttpClient(NetworkSettings settings) {
            return HttpClient.newBuilder().sslContext(ssl).connectTimeout(settings.getTimeout())
                    .proxy(settings.getProxySelector()).followRedirects(HttpClient.Redirect.NORMAL).build();
        }
    }

    @Override
    public void close() {
        if (maintenance != null) maintenance.interrupt();
        executor.shutdownNow();
    }
}

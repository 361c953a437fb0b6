package dev.bhatti.server.proxy;

import dev.bhatti.server.publish.PublishService;
import dev.bhatti.server.publish.ProxyConfig;
import dev.bhatti.server.publish.ProxyBackends;
import dev.bhatti.server.publish.HostCertificates;
import dev.bhatti.server.tls.AcmeCertificates;
import dev.bhatti.server.tls.AcmeChallenges;
import dev.bhatti.server.tls.ProvidedCertificate;
import dev.bhatti.server.tls.ProxyCertificates;
import dev.bhatti.server.tls.TlsConfig;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.handler.SizeLimitHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.server.ServerWebSocketContainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import java.io.IOException;
import java.util.ArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The public proxy's listeners: plain HTTP, and with {@code tls:} also HTTPS, where plain HTTP then
 * only answers ACME challenges and redirects. Request headers are bounded (16 KB), bodies too (50 MB),
 * and a client that stops sending (slowloris) is dropped once idle for proxy.idle_timeout_sec. Only
 * HTTP/1.1 is offered (no h2 in ALPN): WebSocket upgrades through HTTP/2 front ends break otherwise.
 */
public final class ProxyServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);
    /** Bodies of proxied requests are capped; responses are streamed whatever their size. */
    static final long MAX_BODY = 50L << 20;

    private final Server server;
    private final PublicProxy proxy;
    private final ProvidedCertificate provided;
    private final AcmeCertificates acme;
    private final ProxyConfig config;

    private ProxyServer(Server server, PublicProxy proxy, ProvidedCertificate provided, AcmeCertificates acme, ProxyConfig config) {
        this.server = server;
        this.proxy = proxy;
        this.provided = provided;
        this.acme = acme;
        this.config = config;
    }

    /**
     * Starts the listeners. {@code publishedAliases} lists every published alias (with ACME, the
     * proxy keeps certificates for exactly their host names, and the API's, in {@code <dataDir>/certs}).
     * {@code api} is the API's handler, served on the TLS listener under {@code tls.api_host} if set.
     */
    public static ProxyServer start(ProxyConfig p, Path dataDir, PublishService publishes, ProxyBackends backends,
                                    Supplier<List<String>> publishedAliases, Handler api) throws Exception {
        var threads = new QueuedThreadPool(); // its own: a Server stops the pool it runs on
        threads.setName("bhatti-proxy");
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        var server = new Server(threads);
        var http = new HttpConfiguration();
        http.setRequestHeaderSize(16 * 1024);
        http.setSendServerVersion(false);
        var plain = new ServerConnector(server, new HttpConnectionFactory(http));
        plain.setHost(p.host());
        plain.setPort(p.port());
        plain.setIdleTimeout(p.idleTimeout().toMillis());
        server.addConnector(plain);

        var proxy = new PublicProxy(p.domain(), publishes, backends, ServerWebSocketContainer.ensure(server));
        var limited = new SizeLimitHandler(MAX_BODY, -1);
        limited.setHandler(proxy);
        TlsConfig tls = p.tls();
        ProvidedCertificate provided = null;
        AcmeCertificates acme = null;
        ServerConnector secure = null;
        var httpsPort = new AtomicInteger(tls == null ? 443 : tls.publicPort());
        try {
            if (tls == null) {
                server.setHandler(limited);
            } else {
                var certificates = new ProxyCertificates(p.domain());
                var challenges = new AcmeChallenges();
                if (tls.acme() != null) {
                    acme = new AcmeCertificates(tls.acme(), dataDir.resolve("certs"), certificates, challenges,
                            () -> hostsNeedingCertificates(p, publishedAliases.get()));
                } else {
                    var served = new ArrayList<>(List.of("*." + p.domain()));
                    if (tls.apiHost() != null) served.add(tls.apiHost());
                    provided = new ProvidedCertificate(tls.certFile(), tls.keyFile(), served, tls.reloadCheck(), certificates);
                }
                var https = new HttpConfiguration(http);
                https.addCustomizer(new SecureRequestCustomizer());
                secure = new ServerConnector(server, new SslConnectionFactory(certificates.factory(), "http/1.1"), new HttpConnectionFactory(https));
                secure.setHost(tls.host());
                secure.setPort(tls.port());
                secure.setIdleTimeout(p.idleTimeout().toMillis());
                server.addConnector(secure);
                // plain requests stop at the redirect; secure ones go on to the API (its host name) or the proxy
                var routes = new ArrayList<Handler>(List.of(new HttpsRedirect(p.domain(), tls.apiHost(), httpsPort::get, challenges)));
                if (tls.apiHost() != null) routes.add(new ApiHostRoute(tls.apiHost(), api));
                routes.add(limited);
                server.setHandler(new Handler.Sequence(routes.toArray(Handler[]::new)));
            }
            server.start();
        } catch (Exception e) {
            if (provided != null) provided.close();
            if (acme != null) acme.close();
            proxy.close();
            server.stop();
            throw e;
        }
        var actual = p.withPorts(plain.getLocalPort(), secure == null ? 0 : secure.getLocalPort());
        if (actual.tls() != null) httpsPort.set(actual.tls().publicPort());
        var started = new ProxyServer(server, proxy, provided, acme, actual);
        if (acme != null) {
            try {
                acme.start(); // after the listeners: the CA checks the challenges on the plain one
            } catch (IOException | RuntimeException e) {
                started.close();
                throw e;
            }
        }
        log.info("public proxy on {}:{}{} for *.{}{}", p.host(), plain.getLocalPort(),
                secure == null ? "" : " and https on " + tls.host() + ":" + secure.getLocalPort() + (acme != null ? " (ACME)" : " (certificate files)"), p.domain(),
                tls != null && tls.apiHost() != null ? ", and the API as " + tls.apiHost() : p.implicit() ? " (the default: config.yaml has no proxy: section)" : "");
        return started;
    }

    /** The names ACME keeps certificates for: every published alias's, and the API's when it is served here. */
    static List<String> hostsNeedingCertificates(ProxyConfig p, List<String> aliases) {
        var hosts = new ArrayList<String>(aliases.stream().map(a -> a + "." + p.domain()).toList());
        if (p.tls() != null && p.tls().apiHost() != null) hosts.add(p.tls().apiHost());
        return hosts;
    }

    /** The configuration with the ports the listeners really got. */
    public ProxyConfig config() { return config; }

    /** Certificates per host name, when they come from an ACME CA. */
    public HostCertificates hostCertificates() { return acme != null ? acme : HostCertificates.NONE; }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            log.warn("stopping the public proxy: {}", e.getMessage());
        }
        proxy.close();
        if (provided != null) provided.close();
        if (acme != null) acme.close();
    }
}

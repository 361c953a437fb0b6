package dev.bhatti.server.publish;

import dev.bhatti.server.tls.TlsConfig;
import dev.bhatti.server.net.DnsNames;
import java.time.Duration;

/**
 * {@code proxy:} in config.yaml: where the public proxy listens and the domain its host names end in.
 * A port published with alias {@code web} is served at {@code http://web.<domain>[:publicPort]/}, or
 * at {@code https://web.<domain>[:tls.publicPort]/} with a {@code tls:} section (see TlsConfig).
 * Without a {@code proxy:} section the daemon derives one from the API's address ({@link DefaultProxy},
 * {@code implicit}); with {@code enabled: false} there is none (null): publishing still records the
 * rule, but there is no URL to serve it.
 * <pre>
 * proxy:
 *   listen: 0.0.0.0:80
 *   domain: sandbox.example.com   # a wildcard DNS record *.sandbox.example.com points here
 *   public_port: 80               # the port in URLs (default: the listen port)
 *   idle_timeout_sec: 30          # a client silent this long is dropped (slowloris)
 *   enabled: false                # no public proxy at all (the other keys are then ignored)
 * </pre>
 * {@code implicit}: derived, not written by the operator; if its port is taken the daemon runs without
 * a proxy (and says why in publish replies) rather than refusing to start over a port nobody chose.
 */
public record ProxyConfig(String host, int port, String domain, int publicPort, Duration idleTimeout, TlsConfig tls, boolean implicit) {
    public ProxyConfig {
        if (domain == null || !DnsNames.NAME.matcher(domain).matches()) {
            throw new IllegalArgumentException("proxy.domain must be a lower-case DNS name, got '" + domain + "'");
        }
        if (port < 0 || port > 65535 || publicPort < 1 || publicPort > 65535) throw new IllegalArgumentException("proxy ports must be 1 to 65535");
        if (idleTimeout.isNegative() || idleTimeout.isZero()) throw new IllegalArgumentException("proxy.idle_timeout_sec must be > 0");
    }

    public String url(String alias) {
        if (tls != null) return "https://" + alias + "." + domain + (tls.publicPort() == 443 ? "" : ":" + tls.publicPort()) + "/";
        return "http://" + alias + "." + domain + (publicPort == 80 ? "" : ":" + publicPort) + "/";
    }

    /**
     * The same with the ports the listeners really got (a port of 0 in the file means any free one).
     * An implicit proxy's URLs always name the port it got: nothing in front of it maps another one.
     */
    public ProxyConfig withPorts(int actual, int actualTls) {
        return new ProxyConfig(host, actual, domain, implicit || publicPort == port ? actual : publicPort, idleTimeout,
                tls == null ? null : tls.withPort(actualTls), implicit);
    }

    /** Where the plain listener listens, as {@code HOST:PORT} for messages. */
    public String listen() { return (host.contains(":") ? "[" + host + "]" : host) + ":" + port; }
}

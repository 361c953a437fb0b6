package dev.bhatti.server.publish;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The public proxy a daemon runs when config.yaml has no {@code proxy:} section: on the API's port + 1
 * (8081 beside the default 8080; two daemons on one host, each on its own API port, get two proxies
 * that do not collide; an API on port 0 gets any free port), with host names that resolve with no DNS
 * set-up:
 * <ul>
 * <li>an API on loopback only: the proxy on 127.0.0.1, URLs {@code http://<alias>.localhost:<port>/}
 *     (RFC 6761: curl and browsers resolve every {@code *.localhost} name to loopback themselves);</li>
 * <li>an API on a public address: the proxy on that address, names {@code <alias>.<address>.sslip.io}
 *     with the address dashed (sslip.io, and nip.io alike, answer such names with the address in them);</li>
 * <li>an API on every address (0.0.0.0): the proxy on every address, named after the address of the
 *     default route's interface; with no default route, {@code localhost} names (this host only).</li>
 * </ul>
 */
public final class DefaultProxy {
    public static final String LOCAL_DOMAIN = "localhost";
    public static final String ADDRESS_DOMAIN = "sslip.io";
    static final Duration IDLE_TIMEOUT = Duration.ofSeconds(30);

    private DefaultProxy() {}

    /**
     * The proxy for an API listening on {@code apiHost:apiPort}; {@code hostAddress} is asked for the
     * host's address only when the API listens on every address.
     */
    public static ProxyConfig forApi(String apiHost, int apiPort, Supplier<Optional<Inet4Address>> hostAddress) {
        int port = apiPort == 0 || apiPort == 65535 ? 0 : apiPort + 1;
        String host = unbracketed(apiHost.strip().toLowerCase(Locale.ROOT));
        if (isWildcard(host)) {
            String domain = hostAddress.get().map(DefaultProxy::addressDomain).orElse(LOCAL_DOMAIN);
            return config("0.0.0.0", port, domain);
        }
        InetAddress address = address(host);
        if (address == null || address.isLoopbackAddress()) return config("127.0.0.1", port, LOCAL_DOMAIN);
        return config(address.getHostAddress(), port, addressDomain(address));
    }

    /** {@code 192-168-1-5.sslip.io} for 192.168.1.5; an IPv6 address in its full form, colons as dashes. */
    static String addressDomain(InetAddress address) {
        String text = address instanceof Inet6Address ? unscoped(address.getHostAddress()) : address.getHostAddress();
        return text.replace('.', '-').replace(':', '-') + "." + ADDRESS_DOMAIN;
    }

    private static ProxyConfig config(String host, int port, String domain) {
        return new ProxyConfig(host, port, domain, port == 0 ? 80 : port, IDLE_TIMEOUT, null, true);
    }

    private static boolean isWildcard(String host) {
        return host.isEmpty() || host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0");
    }

    /**
     * The address the API binds: a literal as it is, {@code localhost} as loopback, any other name as the
     * resolver answers (as Jetty will ask when it binds); null if it does not (the API then fails to start).
     */
    private static InetAddress address(String host) {
        if (host.equals("localhost") || host.endsWith(".localhost")) return InetAddress.getLoopbackAddress();
        try {
            return InetAddress.ofLiteral(host);
        } catch (IllegalArgumentException notALiteral) {
            try {
                return InetAddress.getByName(host);
            } catch (UnknownHostException e) {
                return null;
            }
        }
    }

    private static String unbracketed(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    private static String unscoped(String v6) {
        int percent = v6.indexOf('%');
        return percent < 0 ? v6 : v6.substring(0, percent);
    }
}

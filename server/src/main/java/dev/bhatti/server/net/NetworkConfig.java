package dev.bhatti.server.net;

import java.net.InetSocketAddress;
import java.util.List;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code network:} in config.yaml. Off unless enabled: it changes the host's firewall and links.
 * <pre>
 * network:
 *   enabled: true
 *   pool: 10.200.0.0/16         # one /24 per user
 *   netns: bhatti               # optional: bridges, TAPs, rules and VMs live in this namespace
 *   dns_upstreams: [192.0.2.53] # default: the host's /etc/resolv.conf nameservers
 *   allow_private: [10.0.5.0/24] # private ranges sandboxes may reach (denied by default; see PrivateRanges)
 * </pre>
 */
public record NetworkConfig(boolean enabled, Subnets pool, String netns, List<InetSocketAddress> dnsUpstreams,
                            PrivateRanges allowPrivate) {
    public static final String DEFAULT_POOL = "10.200.0.0/16";
    public static final NetworkConfig DISABLED = new NetworkConfig(false, Subnets.parse(DEFAULT_POOL), null, List.of());

    /** Sandboxes reach no private range. */
    public NetworkConfig(boolean enabled, Subnets pool, String netns, List<InetSocketAddress> dnsUpstreams) {
        this(enabled, pool, netns, dnsUpstreams, PrivateRanges.NONE_ALLOWED);
    }

    public NetworkConfig {
        dnsUpstreams = List.copyOf(dnsUpstreams);
        if (allowPrivate == null) allowPrivate = PrivateRanges.NONE_ALLOWED;
        if (netns != null && !netns.matches("[A-Za-z0-9_.-]{1,64}")) throw new IllegalArgumentException("network.netns: bad name '" + netns + "'");
    }

    /** {@code ip} or {@code ip:port}. */
    public static InetSocketAddress upstream(String s) {
        String host = s;
        int port = 53;
        int colon = s.lastIndexOf(':');
        if (colon > 0) {
            host = s.substring(0, colon);
            try {
                port = Integer.parseInt(s.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("network.dns_upstreams: bad port in '" + s + "'");
            }
        }
        if (!Ipv4.valid(host) || port < 1 || port > 65535) throw new IllegalArgumentException("network.dns_upstreams: want IPv4[:port], got '" + s + "'");
        return new InetSocketAddress(host, port);
    }

    /** The host's own nameservers, except loopback ones (unreachable from a guest's point of view). */
    public static List<InetSocketAddress> hostNameservers() {
        try {
            return Files.readAllLines(Path.of("/etc/resolv.conf")).stream()
                    .map(String::strip).filter(l -> l.startsWith("nameserver "))
                    .map(l -> l.substring("nameserver ".length()).strip())
                    .filter(Ipv4::valid).filter(ip -> !ip.startsWith("127."))
                    .map(ip -> new InetSocketAddress(ip, 53)).toList();
        } catch (IOException e) {
            return List.of();
        }
    }
}

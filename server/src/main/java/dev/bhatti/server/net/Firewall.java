package dev.bhatti.server.net;

import java.util.List;
import java.util.HashMap;
import java.util.Map;

/**
 * Renders bhatti's whole nftables ruleset from the networks that exist, so that applying it is one
 * atomic, idempotent transaction (no rule ordering to get wrong, nothing left from a crash).
 * <ul>
 * <li>bridge table: a TAP may only send from its own MAC and IP (no spoofing a sibling or another
 *     user), and no IPv6 (sandboxes get IPv4 only).
 * <li>input: from a bridge, only DNS and ping to its own gateway (rate-limited per sandbox) and
 *     replies; nothing else of the host.
 * <li>forward: replies; within one user's bridge; nothing between bridges (users); nothing new into a
 *     bridge from outside; nothing to a private, link-local or reserved range the operator did not
 *     allow ({@link PrivateRanges}), whatever the egress policy; from each sandbox what its egress
 *     policy allows; everything else dropped.
 * <li>postrouting: the pool is masqueraded behind the host's address.
 * </ul>
 */
public final class Firewall {
    public static final String TABLE = "bhatti";
    static final String BRIDGES = "bhbr*";
    /** What one sandbox may send to the host's resolver and ping, per second (twice that in a burst). */
    static final int DNS_PER_SECOND = 200;
    static final int PINGS_PER_SECOND = 20;

    private Firewall() {}

    public record Bridge(String name, String gateway) {}

    /** {@code allow}: canonical IPs or CIDRs reachable under egress "none" (besides DNS-learned ones). */
    public record Sandbox(String tap, String bridge, String ip, String mac, boolean egressAll, List<String> allow,
                          Map<String, Long> learned) {}

    /** The set of addresses a sandbox learned through DNS for its allowed host names. */
    public static String learnedSet(String tap) { return "learned_" + tap; }

    /** The private ranges no sandbox reaches, and those of them the operator allowed. */
    static final String PRIVATE = "private";
    static final String PRIVATE_ALLOWED = "private_allowed";

    public static String render(String pool, PrivateRanges privateRanges, List<Bridge> bridges, List<Sandbox> sandboxes) {
        var r = new StringBuilder();
        // Declaring a table before deleting it makes the delete succeed on a first run.
        r.append("table inet ").append(TABLE).append("\ndelete table inet ").append(TABLE).append('\n');
        r.append("table bridge ").append(TABLE).append("\ndelete table bridge ").append(TABLE).append('\n');

        r.append("table bridge ").append(TABLE).append(" {\n  chain prerouting {\n")
                .append("    type filter hook prerouting priority filter; policy accept;\n");
        for (Sandbox s : sandboxes) {
            String tap = q(s.tap());
            r.append("    iifname ").append(tap).append(" ether saddr != ").append(s.mac()).append(" drop\n");
            r.append("    iifname ").append(tap).append(" ether type ip ip saddr != ").append(s.ip()).append(" drop\n");
            r.append("    iifname ").append(tap).append(" ether type arp arp saddr ip != ").append(s.ip()).append(" drop\n");
            r.append("    iifname ").append(tap).append(" ether type ip6 drop\n");
        }
        r.append("  }\n}\n");

        r.append("table inet ").append(TABLE).append(" {\n");
        intervalSet(r, PRIVATE, PrivateRanges.deniedCidrs());
        intervalSet(r, PRIVATE_ALLOWED, privateRanges.allowed());
        for (Sandbox s : sandboxes) {
            intervalSet(r, allowSet(s.tap()), s.allow());
            r.append("  set ").append(learnedSet(s.tap())).append(" {\n    type ipv4_addr; flags timeout;\n");
            if (!s.learned().isEmpty()) {
                r.append("    elements = { ");
                r.append(String.join(", ", s.learned().entrySet().stream().map(e -> e.getKey() + " timeout " + e.getValue() + "s").toList()));
                r.append(" }\n");
            }
            r.append("  }\n");
        }

        r.append("  chain input {\n    type filter hook input priority filter; policy accept;\n");
        var gateways = new HashMap<String, String>();
        for (Bridge b : bridges) gateways.put(b.name(), b.gateway());
        for (Sandbox s : sandboxes) {
            String gateway = gateways.get(s.bridge());
            if (gateway == null) continue;
            // per sandbox (its address cannot be spoofed), and before the conntrack shortcut (one UDP
            // socket is one "established" flow), so a flood is dropped in the kernel and costs neither
            // the daemon's resolver nor other sandboxes anything
            String to = "    iifname " + q(s.bridge()) + " ip saddr " + s.ip() + " ip daddr " + gateway;
            String dns = " limit rate over " + DNS_PER_SECOND + "/second burst " + 2 * DNS_PER_SECOND + " packets drop\n";
            r.append(to).append(" udp dport 53").append(dns);
            r.append(to).append(" tcp dport 53").append(dns);
            r.append(to).append(" icmp type echo-request limit rate over ").append(PINGS_PER_SECOND).append("/second burst ")
                    .append(2 * PINGS_PER_SECOND).append(" packets drop\n");
        }
        r.append("    iifname ").append(q(BRIDGES)).append(" ct state established,related accept\n");
        for (Bridge b : bridges) {
            String to = "    iifname " + q(b.name()) + " ip daddr " + b.gateway();
            r.append(to).append(" udp dport 53 accept\n");
            r.append(to).append(" tcp dport 53 accept\n");
            r.append(to).append(" icmp type echo-request accept\n");
        }
        r.append("    iifname ").append(q(BRIDGES)).append(" drop\n  }\n");

        r.append("  chain forward {\n    type filter hook forward priority filter; policy accept;\n");
        r.append("    ct state established,related accept\n");
        for (Bridge b : bridges) {
            // same-user traffic is bridged, but hosts with br_netfilter pass it through here too
            r.append("    iifname ").append(q(b.name())).append(" oifname ").append(q(b.name())).append(" accept\n");
        }
        r.append("    iifname ").append(q(BRIDGES)).append(" oifname ").append(q(BRIDGES)).append(" drop\n");
        r.append("    oifname ").append(q(BRIDGES)).append(" drop\n");
        // before any sandbox's policy, so that neither egress all nor an allow list (nor a DNS answer
        // for an allowed name) opens the LAN or the metadata service; counted, for an operator wondering
        r.append("    iifname ").append(q(BRIDGES)).append(" ip daddr @").append(PRIVATE).append(" ip daddr != @").append(PRIVATE_ALLOWED)
                .append(" counter drop\n");
        for (Sandbox s : sandboxes) {
            r.append("    iifname ").append(q(s.bridge())).append(" ip saddr ").append(s.ip()).append(" jump ").append(egressChain(s.tap())).append('\n');
        }
        r.append("    iifname ").append(q(BRIDGES)).append(" drop\n  }\n");

        for (Sandbox s : sandboxes) {
            r.append("  chain ").append(egressChain(s.tap())).append(" {\n");
            if (s.egressAll()) {
                r.append("    accept\n");
            } else {
                r.append("    ip daddr @").append(allowSet(s.tap())).append(" accept\n");
                r.append("    ip daddr @").append(learnedSet(s.tap())).append(" accept\n");
                r.append("    drop\n");
            }
            r.append("  }\n");
        }

        r.append("  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n");
        r.append("    ip saddr ").append(pool).append(" oifname != ").append(q(BRIDGES)).append(" masquerade\n  }\n");
        r.append("}\n");
        return r.toString();
    }

    /** Overlapping elements (10.0.0.0/8 and 10.0.5.0/24) would fail the whole transaction unless merged. */
    private static void intervalSet(StringBuilder r, String name, List<String> elements) {
        r.append("  set ").append(name).append(" {\n    type ipv4_addr; flags interval; auto-merge;\n");
        if (!elements.isEmpty()) r.append("    elements = { ").append(String.join(", ", elements)).append(" }\n");
        r.append("  }\n");
    }

    private static String allowSet(String tap) { return "allow_" + tap; }

    private static String egressChain(String tap) { return "egress_" + tap; }

    private static String q(String name) { return "\"" + name + "\""; }
}

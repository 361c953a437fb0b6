package dev.bhatti.server.net;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Destinations no sandbox reaches, whatever its egress policy, unless the operator allows them
 * ({@value #KEY} in config.yaml): the host's LAN and every other private network, carrier-grade NAT
 * (VPNs such as Tailscale), link-local (cloud metadata at 169.254.169.254), loopback, multicast and
 * reserved addresses. Services there often trust whoever can reach them; a sandbox runs anyone's code.
 * The host's own addresses are not listed: from a sandbox they arrive in the input chain, which takes
 * nothing but DNS and ping on the sandbox's gateway. Sandboxes of one user reach each other on their
 * bridge before any of this applies.
 *
 * @param allowed canonical CIDRs ({@code a.b.c.d/n}) the operator opened, in the order given
 */
public record PrivateRanges(List<String> allowed) {
    public static final String KEY = "network.allow_private";
    public static final PrivateRanges NONE_ALLOWED = new PrivateRanges(List.of());

    /** A denied range and what it is, for the message that refuses it. */
    public record Range(String cidr, String what) {}

    public static final List<Range> DENIED = List.of(
            new Range("0.0.0.0/8", "\"this network\""),
            new Range("10.0.0.0/8", "private (RFC 1918)"),
            new Range("100.64.0.0/10", "carrier-grade NAT"),
            new Range("127.0.0.0/8", "loopback"),
            new Range("169.254.0.0/16", "link-local, with cloud metadata"),
            new Range("172.16.0.0/12", "private (RFC 1918)"),
            new Range("192.168.0.0/16", "private (RFC 1918)"),
            new Range("224.0.0.0/4", "multicast"),
            new Range("240.0.0.0/4", "reserved and broadcast"));

    public PrivateRanges {
        allowed = List.copyOf(allowed);
    }

    /**
     * Validates the operator's list: IPv4 addresses or CIDRs without host bits (a typo there would
     * open more than meant, or something else).
     */
    public static PrivateRanges of(List<String> entries) {
        var canonical = new ArrayList<String>();
        for (String e : entries) {
            String s = e == null ? "" : e.strip();
            String c;
            try {
                c = Ipv4.canonicalCidr(s);
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException(KEY + ": want IPv4 addresses or CIDRs like 10.0.5.0/24, got '" + e + "'");
            }
            if (s.contains("/") && !c.equals(s) && !(c + "/32").equals(s)) {
                throw new IllegalArgumentException(KEY + ": '" + s + "' has host bits set; did you mean " + c + "?");
            }
            c = c.contains("/") ? c : c + "/32";
            if (!canonical.contains(c)) canonical.add(c);
        }
        return new PrivateRanges(canonical);
    }

    public static List<String> deniedCidrs() { return DENIED.stream().map(Range::cidr).toList(); }

    /**
     * The denied range that {@code cidr} (an address or CIDR) reaches into beyond what the operator
     * allowed, if any: asking for it could never work.
     */
    public Optional<Range> refused(String cidr) {
        long[] want = interval(cidr);
        for (Range d : DENIED) {
            long[] denied = interval(d.cidr());
            long lo = Math.max(want[0], denied[0]), hi = Math.min(want[1], denied[1]);
            if (lo <= hi && !covered(lo, hi)) return Optional.of(d);
        }
        return Optional.empty();
    }

    /** Whether the operator's ranges together cover every address from {@code lo} to {@code hi}. */
    private boolean covered(long lo, long hi) {
        List<long[]> ranges = allowed.stream().map(PrivateRanges::interval).sorted(Comparator.comparingLong(r -> r[0])).toList();
        long next = lo;
        for (long[] r : ranges) {
            if (r[0] > next) break;
            next = Math.max(next, r[1] + 1);
            if (next > hi) return true;
        }
        return false;
    }

    /** The first and last address of {@code a.b.c.d[/n]}, as unsigned values. */
    private static long[] interval(String cidr) {
        String c = Ipv4.canonicalCidr(cidr);
        int slash = c.indexOf('/');
        int prefix = slash < 0 ? 32 : Integer.parseInt(c.substring(slash + 1));
        long first = Integer.toUnsignedLong(Ipv4.parse(slash < 0 ? c : c.substring(0, slash)));
        return new long[] {first, first + (1L << (32 - prefix)) - 1};
    }
}

package dev.bhatti.server.net;

/**
 * The address pool carved into one /24 per user: subnet {@code i} is the pool's i-th /24, its gateway
 * (the user's bridge, also its DNS resolver) is .1, and sandboxes get .2 to .254.
 */
public record Subnets(int base, int prefix) {
    public static final int FIRST_HOST = 2;
    public static final int LAST_HOST = 254;

    public Subnets {
        if (prefix < 8 || prefix > 24) throw new IllegalArgumentException("the pool must be a /8 to /24, got /" + prefix);
        if ((base & ~mask(prefix)) != 0) throw new IllegalArgumentException("the pool " + Ipv4.format(base) + "/" + prefix + " has host bits set");
    }

    /** Parses {@code a.b.c.d/n}. */
    public static Subnets parse(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0) throw new IllegalArgumentException("network.pool must be a CIDR like 10.200.0.0/16, got '" + cidr + "'");
        int prefix;
        try {
            prefix = Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("network.pool must be a CIDR like 10.200.0.0/16, got '" + cidr + "'");
        }
        return new Subnets(Ipv4.parse(cidr.substring(0, slash)), prefix);
    }

    /** How many /24s the pool holds, i.e. how many users can have a network. */
    public int capacity() { return 1 << (24 - prefix); }

    public int subnet(int index) {
        if (index < 0 || index >= capacity()) throw new IllegalArgumentException("subnet index " + index + " outside the pool");
        return base + (index << 8);
    }

    public String gateway(int index) { return Ipv4.format(subnet(index) + 1); }

    public String host(int index, int host) {
        if (host < FIRST_HOST || host > LAST_HOST) throw new IllegalArgumentException("host " + host);
        return Ipv4.format(subnet(index) + host);
    }

    public String subnetCidr(int index) { return Ipv4.format(subnet(index)) + "/24"; }

    public String cidr() { return Ipv4.format(base) + "/" + prefix; }

    /** The host number (.2 to .254) of {@code ip} within subnet {@code index}, or -1 if it is not in it. */
    public int hostOf(int index, String ip) {
        int a = Ipv4.parse(ip);
        int n = a - subnet(index);
        return n >= 0 && n < 256 ? n : -1;
    }

    /** Whether the pool shares addresses with {@code cidr} ({@code a.b.c.d/n}); false for anything malformed. */
    public boolean overlaps(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0 || !Ipv4.valid(cidr.substring(0, slash))) return false;
        int length;
        try {
            length = Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            return false;
        }
        if (length < 0 || length > 32) return false;
        int common = mask(Math.min(length, prefix));
        return (Ipv4.parse(cidr.substring(0, slash)) & common) == (base & common);
    }

    /** Whether {@code ip} (a valid dotted quad) is in the pool. */
    public boolean contains(String ip) { return (Ipv4.parse(ip) & mask(prefix)) == base; }

    private static int mask(int prefix) { return prefix == 0 ? 0 : -1 << (32 - prefix); }
}

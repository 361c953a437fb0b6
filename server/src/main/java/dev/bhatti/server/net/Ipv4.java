package dev.bhatti.server.net;

/** Dotted-quad IPv4 addresses as ints, strictly parsed (no leading zeros, no shorthand). */
public final class Ipv4 {
    private Ipv4() {}

    public static int parse(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) throw new IllegalArgumentException("not an IPv4 address: '" + s + "'");
        int v = 0;
        for (String p : parts) {
            if (!p.matches("0|[1-9][0-9]{0,2}") || Integer.parseInt(p) > 255) {
                throw new IllegalArgumentException("not an IPv4 address: '" + s + "'");
            }
            v = (v << 8) | Integer.parseInt(p);
        }
        return v;
    }

    public static boolean valid(String s) {
        try {
            parse(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    public static String format(int v) {
        return (v >>> 24) + "." + ((v >>> 16) & 255) + "." + ((v >>> 8) & 255) + "." + (v & 255);
    }

    /**
     * {@code a.b.c.d} or {@code a.b.c.d/n} in canonical form (host bits cleared), or an exception that
     * says what is wrong.
     */
    public static String canonicalCidr(String s) {
        int slash = s.indexOf('/');
        if (slash < 0) return Ipv4.format(parse(s));
        int prefix;
        try {
            prefix = Integer.parseInt(s.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an IPv4 CIDR: '" + s + "'");
        }
        if (prefix < 0 || prefix > 32) throw new IllegalArgumentException("not an IPv4 CIDR: '" + s + "'");
        int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
        int a = parse(s.substring(0, slash)) & mask;
        return prefix == 32 ? format(a) : format(a) + "/" + prefix;
    }
}

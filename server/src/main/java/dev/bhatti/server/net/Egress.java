package dev.bhatti.server.net;

import dev.bhatti.server.error.DomainException;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import dev.bhatti.server.sandbox.Limits;

/**
 * What a sandbox may reach outside its user's network. {@code all}: anything (NATed through the host).
 * Otherwise only {@code allow}: IPv4 addresses or CIDRs, and host names, which are opened for the
 * addresses the daemon's resolver returns for them (so the guest must resolve them through it).
 * Fail-closed: a name the guest never resolved stays unreachable.
 */
public record Egress(boolean all, List<String> allow) {
    public static final Egress ALL = new Egress(true, List.of());
    static final int MAX_ALLOW = 64;

    public Egress {
        allow = List.copyOf(allow);
    }

    /** Validates a request's {@code egress} ("all", "none" or absent = all) and {@code allow_hosts}. */
    public static Egress of(String egress, List<String> allowHosts) {
        List<String> hosts = allowHosts == null ? List.of() : allowHosts;
        if (hosts.size() > MAX_ALLOW) throw DomainException.invalid("at most " + MAX_ALLOW + " allowed hosts");
        var canonical = new LinkedHashSet<String>();
        for (String h : hosts) canonical.add(canonicalHost(h));
        String e = egress == null ? (canonical.isEmpty() ? "all" : "none") : egress;
        return switch (e) {
            case "all" -> {
                if (!canonical.isEmpty()) throw DomainException.invalid("allowed hosts only make sense with egress none");
                yield ALL;
            }
            case "none" -> new Egress(false, new ArrayList<>(canonical));
            default -> throw DomainException.invalid("egress must be all or none, got '" + Limits.printable(e) + "'");
        };
    }

    /** An IPv4 address, CIDR or host name in canonical form. */
    static String canonicalHost(String h) {
        if (h == null || h.isBlank()) throw DomainException.invalid("an allowed host must not be empty");
        String s = h.strip().toLowerCase(Locale.ROOT);
        if (s.endsWith(".")) s = s.substring(0, s.length() - 1);
        if (s.matches("[0-9./]+")) {
            try {
                return Ipv4.canonicalCidr(s);
            } catch (IllegalArgumentException e) {
                throw DomainException.invalid(e.getMessage());
            }
        }
        if (s.length() > 253 || !DnsNames.NAME.matcher(s).matches()) {
            throw DomainException.invalid("not an IPv4 address, CIDR or host name: '" + Limits.printable(h) + "'");
        }
        return s;
    }

    /** The addresses and CIDRs among {@code allow}. */
    public List<String> addresses() {
        return allow.stream().filter(h -> Character.isDigit(h.charAt(h.length() - 1)) && h.matches("[0-9./]+")).toList();
    }

    /** The host names among {@code allow}. */
    public List<String> names() {
        return allow.stream().filter(h -> !h.matches("[0-9./]+")).toList();
    }

    /** Whether a DNS answer for {@code qname} opens addresses: an allowed name or a subdomain of one. */
    public boolean allowsName(String qname) {
        String n = qname.toLowerCase(Locale.ROOT);
        if (n.endsWith(".")) n = n.substring(0, n.length() - 1);
        for (String name : names()) {
            if (n.equals(name) || n.endsWith("." + name)) return true;
        }
        return false;
    }

    public String wire() { return all ? "all" : "none"; }
}

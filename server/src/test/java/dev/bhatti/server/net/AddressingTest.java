package dev.bhatti.server.net;

import dev.bhatti.server.error.DomainException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AddressingTest {

    @Test
    void poolIsCarvedIntoOneSlash24PerUser() {
        var pool = Subnets.parse("10.200.0.0/16");
        assertEquals(256, pool.capacity());
        assertEquals("10.200.0.1", pool.gateway(0));
        assertEquals("10.200.7.1", pool.gateway(7));
        assertEquals("10.200.7.2", pool.host(7, 2));
        assertEquals("10.200.255.254", pool.host(255, 254));
        assertEquals(9, pool.hostOf(3, "10.200.3.9"));
        assertEquals(-1, pool.hostOf(3, "10.200.4.9"));
        assertThrows(IllegalArgumentException.class, () -> pool.gateway(256));
        assertThrows(IllegalArgumentException.class, () -> pool.host(0, 255));
        assertEquals(1, Subnets.parse("192.168.5.0/24").capacity());
    }

    @Test
    void aPoolOverlapsWhatSharesAddressesWithIt() {
        var pool = Subnets.parse("10.200.0.0/16");
        assertTrue(pool.overlaps("10.200.5.0/24"), "inside");
        assertTrue(pool.overlaps("10.200.7.9/32"), "a host inside");
        assertTrue(pool.overlaps("10.0.0.0/8"), "around");
        assertTrue(pool.overlaps("10.200.0.0/16"), "the same");
        assertFalse(pool.overlaps("10.201.0.0/24"));
        assertFalse(pool.overlaps("192.168.0.0/16"));
        assertTrue(pool.contains("10.200.255.254"));
        assertFalse(pool.contains("10.201.0.1"));
        for (String junk : List.of("10.200.0.0", "10.200.0.0/33", "10.200.0.0/x", "300.1.1.1/8")) assertFalse(pool.overlaps(junk), junk);
    }

    @Test
    void badPoolsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Subnets.parse("10.200.0.0"));
        assertThrows(IllegalArgumentException.class, () -> Subnets.parse("10.200.1.0/16"));
        assertThrows(IllegalArgumentException.class, () -> Subnets.parse("10.200.0.0/25"));
        assertThrows(IllegalArgumentException.class, () -> Subnets.parse("10.300.0.0/16"));
        assertThrows(IllegalArgumentException.class, () -> Subnets.parse("10.200.0.0/x"));
    }

    @Test
    void ipv4IsParsedStrictly() {
        assertEquals("1.2.3.4", Ipv4.format(Ipv4.parse("1.2.3.4")));
        assertEquals("255.255.255.255", Ipv4.format(Ipv4.parse("255.255.255.255")));
        for (String bad : List.of("1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.256", "a.b.c.d", "", "1..2.3", " 1.2.3.4")) {
            assertFalse(Ipv4.valid(bad), bad);
        }
        assertEquals("10.0.0.0/8", Ipv4.canonicalCidr("10.1.2.3/8"));
        assertEquals("10.1.2.3", Ipv4.canonicalCidr("10.1.2.3/32"));
        assertThrows(IllegalArgumentException.class, () -> Ipv4.canonicalCidr("10.1.2.3/33"));
    }

    @Test
    void egressPolicyIsValidated() {
        assertTrue(Egress.of(null, null).all());
        assertTrue(Egress.of("all", List.of()).all());
        var e = Egress.of(null, List.of("198.18.0.7", "198.18.1.0/24", "Pkg.Example.TEST."));
        assertFalse(e.all(), "allowed hosts imply egress none");
        assertEquals(List.of("198.18.0.7", "198.18.1.0/24"), e.addresses());
        assertEquals(List.of("pkg.example.test"), e.names());
        assertTrue(e.allowsName("pkg.example.test"));
        assertTrue(e.allowsName("cdn.pkg.example.test."));
        assertFalse(e.allowsName("evilpkg.example.test"));
        assertFalse(e.allowsName("example.test"));
        for (String bad : List.of("", "-bad.test", "a b", "1.2.3.4/40", "exa_mple.test", "x".repeat(64) + ".test")) {
            assertThrows(DomainException.Invalid.class, () -> Egress.of("none", List.of(bad)), bad);
        }
        assertThrows(DomainException.Invalid.class, () -> Egress.of("some", null));
        assertThrows(DomainException.Invalid.class, () -> Egress.of("all", List.of("1.2.3.4")));
        assertThrows(DomainException.Invalid.class, () -> Egress.of("none", java.util.Collections.nCopies(65, "1.2.3.4")));
    }

    @Test
    void nameserversAndUpstreamsParse() {
        assertEquals(53, NetworkConfig.upstream("192.0.2.1").getPort());
        assertEquals(5353, NetworkConfig.upstream("192.0.2.1:5353").getPort());
        assertThrows(IllegalArgumentException.class, () -> NetworkConfig.upstream("dns.google"));
        assertThrows(IllegalArgumentException.class, () -> NetworkConfig.upstream("192.0.2.1:0"));
        assertThrows(IllegalArgumentException.class, () -> new NetworkConfig(true, Subnets.parse("10.0.0.0/16"), "bad ns", List.of()));
    }
}

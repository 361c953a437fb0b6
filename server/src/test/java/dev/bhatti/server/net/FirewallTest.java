package dev.bhatti.server.net;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The rendered ruleset's shape: which rule comes first decides what a sandbox reaches. */
class FirewallTest {
    static final List<Firewall.Bridge> BRIDGES = List.of(new Firewall.Bridge("bhbr0", "10.200.0.1"), new Firewall.Bridge("bhbr1", "10.200.1.1"));
    static final List<Firewall.Sandbox> SANDBOXES = List.of(
            new Firewall.Sandbox("bt01", "bhbr0", "10.200.0.2", "02:00:00:00:00:01", true, List.of(), Map.of()),
            new Firewall.Sandbox("bt02", "bhbr0", "10.200.0.3", "02:00:00:00:00:02", false, List.of("10.0.5.0/24", "203.0.113.0/24"), Map.of()),
            new Firewall.Sandbox("bt03", "bhbr1", "10.200.1.2", "02:00:00:00:00:03", true, List.of(), Map.of()));

    static String render(PrivateRanges ranges) { return Firewall.render("10.200.0.0/16", ranges, BRIDGES, SANDBOXES); }

    /** The rules of one chain, trimmed, in order. */
    static List<String> chain(String ruleset, String name) {
        int start = ruleset.indexOf("  chain " + name + " {\n");
        assertThat(start).as("chain " + name).isNotNegative();
        String body = ruleset.substring(start, ruleset.indexOf("\n  }\n", start));
        return Arrays.stream(body.split("\n")).skip(1).map(String::strip).filter(l -> !l.startsWith("type ")).toList();
    }

    static String set(String ruleset, String name) {
        int start = ruleset.indexOf("  set " + name + " {\n");
        assertThat(start).as("set " + name).isNotNegative();
        return ruleset.substring(start, ruleset.indexOf("\n  }\n", start));
    }

    static final String PRIVATE_DROP = "iifname \"bhbr*\" ip daddr @private ip daddr != @private_allowed counter drop";

    @Test
    void privateRangesAreDroppedForEverySandboxAfterItsOwnBridgeAndBeforeItsPolicy() {
        String r = render(PrivateRanges.of(List.of("10.0.5.0/24", "192.168.7.9")));
        assertThat(set(r, "private")).contains("elements = { 0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16, "
                + "172.16.0.0/12, 192.168.0.0/16, 224.0.0.0/4, 240.0.0.0/4 }");
        assertThat(set(r, "private_allowed")).contains("elements = { 10.0.5.0/24, 192.168.7.9/32 }").contains("auto-merge");

        List<String> forward = chain(r, "forward");
        assertThat(forward).containsOnlyOnce(PRIVATE_DROP);
        int drop = forward.indexOf(PRIVATE_DROP);
        // replies, and a user's sandboxes among themselves (the pool is private too), come first
        assertThat(forward.indexOf("ct state established,related accept")).isLessThan(drop);
        assertThat(forward.indexOf("iifname \"bhbr0\" oifname \"bhbr0\" accept")).isLessThan(drop);
        assertThat(forward.indexOf("iifname \"bhbr1\" oifname \"bhbr1\" accept")).isLessThan(drop);
        assertThat(forward.indexOf("iifname \"bhbr*\" oifname \"bhbr*\" drop")).isLessThan(drop);
        // then every sandbox's policy, egress all included: none of them can open a private range
        for (int i = 0; i < forward.size(); i++) {
            if (forward.get(i).contains("jump egress_")) assertThat(i).as(forward.get(i)).isGreaterThan(drop);
        }
        assertThat(forward.getLast()).isEqualTo("iifname \"bhbr*\" drop");
        assertThat(chain(r, "egress_bt01")).containsExactly("accept");
    }

    @Test
    void withNothingAllowedTheAllowedSetIsEmptyAndTheRuleStillDrops() {
        String r = render(PrivateRanges.NONE_ALLOWED);
        assertThat(set(r, "private_allowed")).doesNotContain("elements");
        assertThat(chain(r, "forward")).contains(PRIVATE_DROP);
    }

    @Test
    void theHostTakesOnlyDnsAndPingOnEachGatewayFromSandboxes() {
        // the host's own addresses (its LAN or public address, another user's gateway) arrive here, not in forward
        List<String> input = chain(render(PrivateRanges.of(List.of("0.0.0.0/0"))), "input");
        assertThat(input.getLast()).isEqualTo("iifname \"bhbr*\" drop");
        assertThat(input.stream().filter(l -> l.endsWith("accept"))).containsExactly(
                "iifname \"bhbr*\" ct state established,related accept",
                "iifname \"bhbr0\" ip daddr 10.200.0.1 udp dport 53 accept",
                "iifname \"bhbr0\" ip daddr 10.200.0.1 tcp dport 53 accept",
                "iifname \"bhbr0\" ip daddr 10.200.0.1 icmp type echo-request accept",
                "iifname \"bhbr1\" ip daddr 10.200.1.1 udp dport 53 accept",
                "iifname \"bhbr1\" ip daddr 10.200.1.1 tcp dport 53 accept",
                "iifname \"bhbr1\" ip daddr 10.200.1.1 icmp type echo-request accept");
    }

    @Test
    void noSandboxSendsIpv6() {
        // so no ULA (fc00::/7) or IPv6 link-local needs a rule of its own
        String bridgeTable = render(PrivateRanges.NONE_ALLOWED).split("table inet " + Firewall.TABLE + " \\{")[0];
        for (Firewall.Sandbox s : SANDBOXES) assertThat(bridgeTable).contains("iifname \"" + s.tap() + "\" ether type ip6 drop");
    }

    @Test
    void aSandboxsAllowListMayOverlapItself() {
        // 198.18.0.7 inside 198.18.0.0/24: without auto-merge nft refuses the whole transaction
        var s = new Firewall.Sandbox("bt04", "bhbr0", "10.200.0.4", "02:00:00:00:00:04", false, List.of("198.18.0.0/24", "198.18.0.7"), Map.of());
        String r = Firewall.render("10.200.0.0/16", PrivateRanges.NONE_ALLOWED, BRIDGES, List.of(s));
        assertThat(set(r, "allow_bt04")).contains("auto-merge").contains("elements = { 198.18.0.0/24, 198.18.0.7 }");
    }
}

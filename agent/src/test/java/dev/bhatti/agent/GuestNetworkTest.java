package dev.bhatti.agent;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class GuestNetworkTest {
    @Test
    void aNewIdentityIsParsedStrictlyAndAppliedInOrder() {
        var id = GuestNetwork.parse("10.200.3.7/24,10.200.3.1,02:aa:bb:cc:dd:ee").orElseThrow();
        assertThat(id).isEqualTo(new GuestNetwork.Identity("10.200.3.7", 24, "10.200.3.1", "02:aa:bb:cc:dd:ee"));
        var cmds = GuestNetwork.commands(id);
        assertThat(cmds.getFirst()).isEqualTo(List.of("ip", "link", "set", "dev", "eth0", "down"));
        assertThat(cmds).contains(List.of("ip", "link", "set", "dev", "eth0", "address", "02:aa:bb:cc:dd:ee"),
                List.of("ip", "addr", "add", "10.200.3.7/24", "dev", "eth0"),
                List.of("ip", "route", "replace", "default", "via", "10.200.3.1", "dev", "eth0"));
        assertThat(cmds.getLast()).as("stale neighbours go last").isEqualTo(List.of("ip", "neigh", "flush", "dev", "eth0"));
        assertThat(GuestNetwork.batch(cmds).lines().toList()).as("one ip -batch process runs them all, in order")
                .startsWith("link set dev eth0 down", "link set dev eth0 address 02:aa:bb:cc:dd:ee")
                .endsWith("neigh flush dev eth0").hasSize(cmds.size());
        for (String bad : List.of("", "10.200.3.7,10.200.3.1,02:aa:bb:cc:dd:ee", "10.200.3.7/40,10.200.3.1,02:aa:bb:cc:dd:ee",
                "10.200.3.7/24,10.200.3.1,02:aa:bb:cc:dd", "10.200.3.7/24;reboot,10.200.3.1,02:aa:bb:cc:dd:ee")) {
            assertThat(GuestNetwork.parse(bad)).as(bad).isEmpty();
        }
        assertThat(GuestNetwork.resolvConf("10.200.3.1")).startsWith("nameserver 10.200.3.1\n");
    }
}

package dev.bhatti.server.net;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PrivateRangesTest {

    @Test
    void theOperatorsRangesAreValidatedAndNamed() {
        assertThat(PrivateRanges.of(List.of("10.0.5.0/24", " 192.168.7.9 ", "172.16.1.1/32", "10.0.5.0/24")).allowed())
                .containsExactly("10.0.5.0/24", "192.168.7.9/32", "172.16.1.1/32");
        for (String bad : List.of("10.0.5.0/33", "10.0.5/24", "fd00::/8", "lan", "", "10.0.5.0/x")) {
            assertThatThrownBy(() -> PrivateRanges.of(List.of(bad))).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("network.allow_private: want IPv4 addresses or CIDRs").hasMessageContaining("'" + bad + "'");
        }
        assertThatThrownBy(() -> PrivateRanges.of(List.of("10.0.5.1/24"))).hasMessage(
                "network.allow_private: '10.0.5.1/24' has host bits set; did you mean 10.0.5.0/24?");
    }

    @Test
    void anAllowedHostInADeniedRangeIsRefusedUnlessTheOperatorCoversAllOfIt() {
        var none = PrivateRanges.NONE_ALLOWED;
        assertThat(none.refused("203.0.113.0/24")).isEmpty();
        assertThat(none.refused("198.18.0.7")).isEmpty();
        assertThat(none.refused("10.0.5.0/24")).map(PrivateRanges.Range::cidr).contains("10.0.0.0/8");
        assertThat(none.refused("169.254.169.254")).map(PrivateRanges.Range::cidr).contains("169.254.0.0/16");
        assertThat(none.refused("100.100.1.1")).map(PrivateRanges.Range::cidr).contains("100.64.0.0/10");
        assertThat(none.refused("172.31.255.255")).map(PrivateRanges.Range::cidr).contains("172.16.0.0/12");
        assertThat(none.refused("172.32.0.0/16")).isEmpty();
        assertThat(none.refused("0.0.0.0/0")).as("everything includes the first denied range").map(PrivateRanges.Range::cidr).contains("0.0.0.0/8");
        assertThat(none.refused("255.255.255.255")).map(PrivateRanges.Range::cidr).contains("240.0.0.0/4");

        var some = PrivateRanges.of(List.of("10.0.5.0/25", "10.0.5.128/25", "192.168.0.0/16"));
        assertThat(some.refused("10.0.5.0/24")).as("covered by two halves").isEmpty();
        assertThat(some.refused("10.0.5.77")).isEmpty();
        assertThat(some.refused("10.0.4.0/23")).as("half of it is not allowed").map(PrivateRanges.Range::cidr).contains("10.0.0.0/8");
        assertThat(some.refused("192.168.1.0/24")).isEmpty();
        assertThat(some.refused("169.254.169.254")).isPresent();
        assertThat(PrivateRanges.of(List.of("0.0.0.0/0")).refused("0.0.0.0/0")).isEmpty();
    }
}

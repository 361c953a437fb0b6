package dev.bhatti.server.net;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class DefaultRouteTest {
    static final String HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";

    @Test
    void theDefaultRoutesInterfaceIsTheUpRouteToEverythingWithTheLowestMetric() {
        String routes = HEADER
                + "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
                + "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
                + "eth1\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
                + "eth2\t00000000\t010300C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n"; // not up
        assertThat(DefaultRoute.defaultInterface(routes)).contains("eth1");
    }

    @Test
    void aHostWithoutADefaultRouteHasNone() {
        assertThat(DefaultRoute.defaultInterface(HEADER + "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n")).isEmpty();
        assertThat(DefaultRoute.defaultInterface(HEADER)).isEmpty();
        assertThat(DefaultRoute.defaultInterface("")).isEmpty();
    }
}

package dev.bhatti.server.publish;

import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.Optional;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/** The proxy a daemon runs without a proxy: section, from where its API listens. */
class DefaultProxyTest {
    static final Supplier<Optional<Inet4Address>> NEVER_ASKED = () -> {
        throw new AssertionError("the host's address is only looked up for an API on every address");
    };

    static Supplier<Optional<Inet4Address>> route(String address) {
        return () -> Optional.of((Inet4Address) InetAddress.ofLiteral(address));
    }

    @Test
    void anApiOnLoopbackGetsAProxyOnLoopbackPortPlusOneWithLocalhostNames() {
        for (String host : new String[] {"127.0.0.1", "localhost", "LOCALHOST", "::1", "[::1]", "127.0.0.5"}) {
            var p = DefaultProxy.forApi(host, 8080, NEVER_ASKED);
            assertThat(p.host()).as(host).isEqualTo("127.0.0.1");
            assertThat(p.port()).as(host).isEqualTo(8081);
            assertThat(p.domain()).as(host).isEqualTo("localhost");
            assertThat(p.implicit()).isTrue();
            assertThat(p.tls()).isNull();
            assertThat(p.url("web")).as(host).isEqualTo("http://web.localhost:8081/");
        }
    }

    @Test
    void anApiOnAPublicAddressGetsAProxyThereNamedAfterItUnderSslipIo() {
        var p = DefaultProxy.forApi("203.0.113.7", 9000, NEVER_ASKED);
        assertThat(p.host()).isEqualTo("203.0.113.7");
        assertThat(p.port()).isEqualTo(9001);
        assertThat(p.domain()).isEqualTo("203-0-113-7.sslip.io");
        assertThat(p.url("web")).isEqualTo("http://web.203-0-113-7.sslip.io:9001/");
        assertThat(DefaultProxy.forApi("2001:db8::1", 8080, NEVER_ASKED).domain()).as("a valid DNS label, with no '::' in it")
                .isEqualTo("2001-db8-0-0-0-0-0-1.sslip.io");
    }

    @Test
    void anApiOnEveryAddressGetsAProxyOnEveryAddressNamedAfterTheDefaultRoutesAddress() {
        for (String wildcard : new String[] {"0.0.0.0", "", "::", "[::]"}) {
            var p = DefaultProxy.forApi(wildcard, 8080, route("192.0.2.2"));
            assertThat(p.host()).as(wildcard).isEqualTo("0.0.0.0");
            assertThat(p.url("web")).as(wildcard).isEqualTo("http://web.192-0-2-2.sslip.io:8081/");
        }
        var isolated = DefaultProxy.forApi("0.0.0.0", 8080, Optional::empty);
        assertThat(isolated.host()).isEqualTo("0.0.0.0");
        assertThat(isolated.url("web")).as("no default route: names this host resolves").isEqualTo("http://web.localhost:8081/");
    }

    @Test
    void anApiOnAnyFreePortGetsAProxyOnAnyFreePortWhoseUrlsNameThePortItGot() {
        var p = DefaultProxy.forApi("127.0.0.1", 0, NEVER_ASKED);
        assertThat(p.port()).isZero();
        assertThat(p.withPorts(41234, 0).url("web")).isEqualTo("http://web.localhost:41234/");
        assertThat(DefaultProxy.forApi("127.0.0.1", 65535, NEVER_ASKED).port()).as("no port above it").isZero();
    }
}

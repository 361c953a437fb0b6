package dev.bhatti.server.proxy;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.websocket.server.ServerWebSocketContainer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The Host headers the proxy takes as an alias, for the default proxy's domains too. */
class PublicProxyHostTest {

    static PublicProxy proxy(String domain) throws Exception {
        return new PublicProxy(domain, null, null, ServerWebSocketContainer.ensure(new Server()));
    }

    @Test
    void anAliasIsTheOneLabelBeforeTheDomain() throws Exception {
        try (var sslip = proxy("192-0-2-2.sslip.io"); var local = proxy("localhost")) {
            assertThat(sslip.alias("web.192-0-2-2.sslip.io")).contains("web");
            assertThat(sslip.alias("WEB.192-0-2-2.SSLIP.IO.")).contains("web");
            assertThat(sslip.alias("web.192.0.2.2.sslip.io")).as("only the form publish prints").isEmpty();
            assertThat(sslip.alias("192-0-2-2.sslip.io")).isEmpty();
            assertThat(local.alias("web.localhost")).contains("web");
            assertThat(local.alias("a.web.localhost")).isEmpty();
            assertThat(local.alias("localhost")).isEmpty();
            assertThat(local.alias("web.localhost.evil.test")).isEmpty();
        }
    }
}

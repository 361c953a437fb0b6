package dev.bhatti.server.proxy;

import dev.bhatti.server.tls.AcmeChallenges;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The plain-HTTP side of the TLS proxy, on a real Jetty listener with raw requests (to send any Host). */
class HttpsRedirectTest {
    Server server;
    int port;

    @BeforeEach
    void setUp() throws Exception {
        server = new Server();
        var connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(new HttpsRedirect("apps.example.com", "api.example.org", () -> 8443, new AcmeChallenges()));
        server.start();
        port = connector.getLocalPort();
    }

    @AfterEach
    void tearDown() throws Exception {
        server.stop();
    }

    String get(String host, String pathQuery) throws IOException {
        try (var s = new Socket("127.0.0.1", port)) {
            s.getOutputStream().write(("GET " + pathQuery + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void ourNamesGoToHttpsWithPathAndQueryKept() throws Exception {
        assertThat(get("web.apps.example.com", "/a/b?c=d")).startsWith("HTTP/1.1 308")
                .contains("Location: https://web.apps.example.com:8443/a/b?c=d");
        assertThat(get("API.example.org", "/sandboxes")).startsWith("HTTP/1.1 308")
                .contains("Location: https://api.example.org:8443/sandboxes");
    }

    @Test
    void aFullyQualifiedNameWithItsTrailingDotIsOursToo() throws Exception {
        assertThat(get("web.apps.example.com.", "/")).startsWith("HTTP/1.1 308")
                .contains("Location: https://web.apps.example.com:8443/");
        assertThat(get("api.example.org.", "/")).startsWith("HTTP/1.1 308");
    }

    @Test
    void otherNamesAreNotRedirected() throws Exception {
        assertThat(get("evil.example.net", "/")).startsWith("HTTP/1.1 404").doesNotContain("Location:");
        assertThat(get("apps.example.com.evil.net", "/")).startsWith("HTTP/1.1 404");
    }
}

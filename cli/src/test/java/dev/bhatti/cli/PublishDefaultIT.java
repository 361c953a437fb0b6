package dev.bhatti.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Publishing on a daemon whose config.yaml has no proxy: section, on a real VM: the daemon runs its
 * public proxy beside the API (its port + 1), {@code bhatti publish} prints an
 * {@code http://ALIAS.localhost:PORT/} URL, and the real curl on this host fetches exactly that URL,
 * resolving {@code *.localhost} to loopback itself (RFC 6761; no --resolve, no DNS set-up). A default
 * port that is taken leaves the daemon up, and publish says why there is no URL and what to set.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(DaemonLogOnFailure.class)
class PublishDefaultIT {
    static BhattiProcess.Daemon daemon;
    static String url;

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-publish-default-")
            .config("thermal: {warm_after_sec: 0, cold_after_sec: 0}\n"); // no proxy: section

    @BeforeAll
    static void setUp() { daemon = bhatti.daemon(); }

    record Http(int status, String body, String stderr) {}

    /** {@code curl URL}, the URL exactly as given: curl resolves its host name itself. */
    static Http curl(String url) throws Exception {
        Process p = new ProcessBuilder("curl", "-sS", "-m", "60", "-o", "-", "-w", "\n%{http_code}", url).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        int nl = out.lastIndexOf('\n');
        return new Http(Integer.parseInt(out.substring(nl + 1).strip()), out.substring(0, Math.max(nl, 0)).strip(), err);
    }

    @Test
    @Order(1)
    void publishPrintsALocalhostUrlThatCurlFetchesAsPrinted() throws Exception {
        bhatti.ok("create", "--name", "dev", "--memory", "256");
        bhatti.exec("dev", "sh", "-c", "mkdir -p /tmp/w && echo hello-from-dev > /tmp/w/index.html && busybox httpd -p 3000 -h /tmp/w");
        var pub = bhatti.ok("publish", "dev", "-p", "3000");
        var printed = Pattern.compile("^published: dev:3000 at (\\S+)$", Pattern.MULTILINE).matcher(pub.stdout());
        assertThat(printed.find()).as(pub.toString()).isTrue();
        url = printed.group(1);
        assertThat(url).as("the default proxy: the API's port + 1, *.localhost names")
                .matches("http://dev-[0-9a-f]{6}\\.localhost:" + (daemon.port + 1) + "/");

        Http got = curl(url);
        assertThat(got.status()).as(got.toString()).isEqualTo(200);
        assertThat(got.body()).isEqualTo("hello-from-dev");

        JsonNode listed = DaemonUnderTest.json(bhatti.ok("publish", "dev", "--json").stdout());
        assertThat(listed).singleElement().satisfies(r -> assertThat(r.path("url").asString()).isEqualTo(url));
        assertThat(curl(url.replace("://dev-", "://other-")).status()).as("an unpublished name").isEqualTo(404);
    }

    @Test
    @Order(2)
    void aTakenDefaultPortLeavesTheDaemonUpAndPublishSaysWhyThereIsNoUrl() throws Exception {
        int proxyPort = daemon.port + 1;
        daemon.stop();
        try (var squatter = new ServerSocket(proxyPort, 50, InetAddress.getByName("127.0.0.1"))) {
            daemon.start();
            var again = bhatti.ok("publish", "dev", "-p", "3000");
            assertThat(again.stdout()).as(again.toString()).startsWith("already published: dev:3000 at no URL (")
                    .contains("127.0.0.1:" + proxyPort + " was taken").contains("proxy.listen");
            JsonNode reply = DaemonUnderTest.json(bhatti.ok("publish", "dev", "-p", "3000", "--json").stdout());
            assertThat(reply.path("url").isNull()).as(reply.toString()).isTrue();
            assertThat(reply.path("url_unavailable").asString()).contains("proxy.listen");
            assertThat(daemon.log()).contains("WARN").contains("the public proxy is not running");
            daemon.stop();
        }
        daemon.start();
        Http got = curl(url);
        assertThat(got.body()).as("the same URL once the port is free again: " + got).isEqualTo("hello-from-dev");
    }
}

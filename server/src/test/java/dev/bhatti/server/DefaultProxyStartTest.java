package dev.bhatti.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The default public proxy (no proxy: section) at start: beside the API, and never a reason not to start. */
class DefaultProxyStartTest {

    @TempDir Path dataDir;

    /** A free port whose successor is free too (the default proxy's), both checked on loopback. */
    static int freePortWithNext() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                int port = s.getLocalPort();
                if (port == 65535) continue;
                try (var next = new ServerSocket(port + 1, 1, InetAddress.getLoopbackAddress())) {
                    return port;
                } catch (IOException taken) {
                    // try another
                }
            }
        }
        throw new IOException("no two adjacent free ports");
    }

    @Test
    void theProxyListensOnTheApiPortPlusOneAndAnswersForLocalhostNames() throws Exception {
        int api = freePortWithNext();
        try (var daemon = new Daemon(ServerConfig.load(dataDir, "127.0.0.1:" + api))) {
            daemon.start(dataDir.resolve("cli.yaml"), null);
            assertThat(daemon.proxyPort()).isEqualTo(api + 1);
            assertThat(get(api + 1, "nothing.localhost")).startsWith("HTTP/1.1 404").contains("nothing is published at nothing.localhost");
        }
    }

    @Test
    void aTakenDefaultPortLeavesTheDaemonRunningWithoutAProxy() throws Exception {
        int api = freePortWithNext();
        try (var squatter = new ServerSocket(api + 1, 1, InetAddress.getByName("127.0.0.1"));
             var daemon = new Daemon(ServerConfig.load(dataDir, "127.0.0.1:" + api))) {
            daemon.start(dataDir.resolve("cli.yaml"), null);
            assertThat(daemon.proxyPort()).isEqualTo(-1);
            assertThat(daemon.port()).isEqualTo(api);
            assertThat(squatter.isClosed()).isFalse();
        }
    }

    static String get(int port, String host) throws IOException {
        try (var s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}

package dev.bhatti.cli;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The CLI's HTTP/1.1 client against the JDK's own server on a loopback port. */
class PlainHttpTest {
    private HttpServer server;
    private String base;
    private final PlainHttp http = new PlainHttp(Duration.ofSeconds(5), Duration.ofSeconds(10));

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/echo", ex -> {
            byte[] in = ex.getRequestBody().readAllBytes();
            String answer = ex.getRequestMethod() + " " + ex.getRequestURI() + " " + ex.getRequestHeaders().getFirst("Authorization")
                    + " " + new String(in, StandardCharsets.UTF_8);
            byte[] out = answer.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("X-Bhatti-Existing", "true");
            ex.sendResponseHeaders(201, out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        server.createContext("/chunked", ex -> {
            ex.sendResponseHeaders(200, 0); // 0: chunked
            for (int i = 0; i < 3; i++) {
                ex.getResponseBody().write(("{\"n\":" + i + "}\n").getBytes(StandardCharsets.UTF_8));
                ex.getResponseBody().flush();
            }
            ex.close();
        });
        server.createContext("/empty", ex -> {
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() { server.stop(0); }

    private String text(HttpTransport.Response r) throws IOException {
        try (var in = r.body()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void sendsABodyWithItsLengthAndReadsStatusHeadersAndBody() throws IOException {
        var r = http.exchange(new HttpTransport.Request("POST", URI.create(base + "/echo?a=b%20c"), Map.of("Authorization", "Bearer k"),
                "{\"x\":1}".getBytes(StandardCharsets.UTF_8), null));
        assertThat(r.status()).isEqualTo(201);
        assertThat(r.header("x-bhatti-existing")).contains("true");
        assertThat(text(r)).isEqualTo("POST /echo?a=b%20c Bearer k {\"x\":1}");
    }

    @Test
    void streamsAnUploadChunked() throws IOException {
        byte[] big = "0123456789".repeat(20_000).getBytes(StandardCharsets.UTF_8);
        var r = http.exchange(new HttpTransport.Request("PUT", URI.create(base + "/echo"), Map.of(), null, new ByteArrayInputStream(big)));
        assertThat(text(r)).endsWith("0123456789").hasSize("PUT /echo null ".length() + big.length);
    }

    @Test
    void readsAChunkedAnswerAndAnEmptyOne() throws IOException {
        assertThat(text(http.exchange(new HttpTransport.Request("GET", URI.create(base + "/chunked"), Map.of(), null, null))))
                .isEqualTo("{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n");
        var empty = http.exchange(new HttpTransport.Request("DELETE", URI.create(base + "/empty"), Map.of(), null, null));
        assertThat(empty.status()).isEqualTo(204);
        assertThat(text(empty)).isEmpty();
        var missing = http.exchange(new HttpTransport.Request("GET", URI.create(base + "/nothing"), Map.of(), null, null));
        assertThat(missing.status()).isEqualTo(404);
    }

    @Test
    void aRefusedConnectionIsAConnectException() throws IOException {
        int port;
        try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        assertThatThrownBy(() -> http.exchange(new HttpTransport.Request("GET", URI.create("http://127.0.0.1:" + port + "/"), Map.of(), null, null)))
                .isInstanceOf(ConnectException.class);
    }

    @Test
    void anAnswerSentBeforeTheWholeUploadIsReadIsWhatTheCallerGets() throws Exception {
        try (var server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            var refuser = Thread.ofPlatform().start(() -> {
                try (var s = server.accept()) {
                    var in = s.getInputStream();
                    while (!new String(in.readNBytes(1), StandardCharsets.ISO_8859_1).equals("\n")) { } // the request line
                    s.getOutputStream().write("HTTP/1.1 409 Conflict\r\nContent-Length: 5\r\nConnection: close\r\n\r\ntaken"
                            .getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                } catch (IOException ignored) {
                    // the test fails on the client side
                }
            });
            // far more than the socket buffers hold: the client is still writing when the server closes
            var endless = new java.io.InputStream() {
                private long left = 512L * 1024 * 1024;
                @Override public int read() { return left-- > 0 ? 'x' : -1; }
                @Override public int read(byte[] b, int off, int len) {
                    if (left <= 0) return -1;
                    int n = (int) Math.min(len, left);
                    java.util.Arrays.fill(b, off, off + n, (byte) 'x');
                    left -= n;
                    return n;
                }
            };
            var r = http.exchange(new HttpTransport.Request("PUT", URI.create("http://127.0.0.1:" + server.getLocalPort() + "/images"),
                    Map.of(), null, endless));
            assertThat(r.status()).isEqualTo(409);
            assertThat(text(r)).isEqualTo("taken");
            refuser.join();
        }
    }

    @Test
    void httpsUrlsGoThroughTheJdkClient() {
        assertThat(HttpTransport.forUrl("http://127.0.0.1:8080", Duration.ofSeconds(1), Duration.ZERO)).isInstanceOf(PlainHttp.class);
        assertThat(HttpTransport.forUrl("HTTP://host", Duration.ofSeconds(1), Duration.ZERO)).isInstanceOf(PlainHttp.class);
        assertThat(HttpTransport.forUrl("https://host", Duration.ofSeconds(1), Duration.ZERO)).isInstanceOf(JdkHttp.class);
    }
}

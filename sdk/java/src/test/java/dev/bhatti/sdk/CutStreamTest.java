package dev.bhatti.sdk;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * A daemon that goes away mid-answer, played by a bare socket: it answers 200, sends the start of the
 * body, and closes. Every such cut is a {@link ConnectionFailed} (never a hang, never a silent success).
 */
class CutStreamTest {
    static final String SANDBOX_ID = "0123456789abcdef";
    static final Duration NO_HANG = Duration.ofSeconds(20);

    ServerSocket server;
    Thread acceptor;
    final AtomicReference<String> answerHead = new AtomicReference<>();
    final AtomicReference<byte[]> answerBody = new AtomicReference<>();
    Sandbox sb;
    Transport transport;

    @BeforeEach
    void listen() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = Thread.ofPlatform().daemon().start(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    readRequest(s.getInputStream());
                    OutputStream out = s.getOutputStream();
                    out.write(answerHead.get().getBytes(StandardCharsets.ISO_8859_1));
                    out.write(answerBody.get());
                    out.flush();
                } catch (IOException e) {
                    // closed: the test is over
                }
            }
        });
        transport = new Transport(new BhattiConfig("http://127.0.0.1:" + server.getLocalPort(), "k"), Duration.ofSeconds(2), Duration.ofSeconds(5));
        sb = new Sandbox(transport, new SandboxInfo(SANDBOX_ID, "x", "running", "hot", "", 1, 512, "minimal", "", "", null, null, null,
                false, null, null, null, null));
    }

    @AfterEach
    void close() throws Exception {
        server.close();
        transport.close();
        acceptor.join(5_000);
    }

    /** Reads the request's head and its Content-Length body (the client's request, whole, before the answer). */
    private static void readRequest(InputStream in) throws IOException {
        var head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) return;
            head.write(c);
        }
        long length = head.toString(StandardCharsets.ISO_8859_1).lines()
                .filter(l -> l.regionMatches(true, 0, "content-length:", 0, 15))
                .mapToLong(l -> Long.parseLong(l.substring(15).strip())).findFirst().orElse(0);
        in.readNBytes((int) length);
    }

    private void answer(String head, String body) {
        answerHead.set(head);
        answerBody.set(body.getBytes(StandardCharsets.UTF_8));
    }

    private static String chunk(String data) {
        return Integer.toHexString(data.getBytes(StandardCharsets.UTF_8).length) + "\r\n" + data + "\r\n";
    }

    @Test
    void aChunkedExecStreamCutAfterOneEventIsAConnectionFailure() {
        answer("HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n",
                chunk("{\"type\":\"stdout\",\"data\":\"partial\"}\n")); // no last chunk: the connection just closes
        List<ExecEvent> seen = new ArrayList<>();
        assertTimeoutPreemptively(NO_HANG, () -> {
            try (var events = sb.execStream(Exec.of("make"))) {
                assertThatThrownBy(() -> events.forEach(seen::add)).isInstanceOf(ConnectionFailed.class);
            }
        });
        assertThat(seen).containsExactly(new ExecEvent.Stdout("partial"));
    }

    @Test
    void aStreamThatEndsCleanlyButWithoutTheExitIsAConnectionFailure() {
        answer("HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n", "{\"type\":\"stdout\",\"data\":\"partial\"}\n");
        var out = new StringBuilder();
        assertTimeoutPreemptively(NO_HANG, () ->
                assertThatThrownBy(() -> sb.exec(Exec.of("make").onStdout(out::append)))
                        .isInstanceOf(ConnectionFailed.class).hasMessageContaining("ended before the command did"));
        assertThat(out).hasToString("partial");
    }

    @Test
    void aBufferedAnswerCutShortIsAConnectionFailure() {
        answer("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n", "{\"exit_code\":0,\"std");
        assertTimeoutPreemptively(NO_HANG, () -> assertThatThrownBy(() -> sb.exec("true")).isInstanceOf(ConnectionFailed.class));
    }

    @Test
    void aFileReadCutShortIsAConnectionFailure() {
        answer("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n", chunk("the first part"));
        assertTimeoutPreemptively(NO_HANG, () ->
                assertThatThrownBy(() -> sb.files().read("/workspace/big.bin")).isInstanceOf(ConnectionFailed.class)
                        .hasMessageContaining("/workspace/big.bin"));
    }

    @Test
    void aDaemonThatClosesWithoutAWordIsAConnectionFailure() {
        answer("", "");
        assertTimeoutPreemptively(NO_HANG, () -> assertThatThrownBy(() -> sb.refresh()).isInstanceOf(ConnectionFailed.class));
    }
}

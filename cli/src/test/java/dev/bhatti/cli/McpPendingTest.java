package dev.bhatti.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** When bhatti mcp may end: its input has, and every request read is answered. */
class McpPendingTest {

    @Test
    void theServerWaitsForTheAnswersToWhatItReadBeforeItsInputEnded() throws Exception {
        var pending = new McpPending();
        String requests = """
                {"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}
                {"jsonrpc":"2.0","method":"notifications/initialized"}
                {"jsonrpc":"2.0","id":"two","method":"tools/call","params":{"name":"list"}}
                not json
                """;
        var in = pending.input(new ByteArrayInputStream(requests.getBytes(StandardCharsets.UTF_8)));
        var out = pending.output(new ByteArrayOutputStream());
        var read = new ByteArrayOutputStream();
        // the SDK's reader: it sees the end of the input (and closes the session) only once the answers are out
        var sdkSeesTheEnd = CompletableFuture.runAsync(() -> {
            try {
                in.transferTo(read);
            } catch (java.io.IOException e) {
                throw new RuntimeException(e);
            }
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> read.size() == requests.getBytes(StandardCharsets.UTF_8).length);
        out.write("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n".getBytes(StandardCharsets.UTF_8));
        // a notification (progress) and half an answer are not the answer
        out.write("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n{\"jsonrpc\":\"2.0\",\"id\":\"two\","
                .getBytes(StandardCharsets.UTF_8));
        assertThat(sdkSeesTheEnd).isNotDone();
        out.write("\"result\":{}}\n".getBytes(StandardCharsets.UTF_8));
        await().atMost(Duration.ofSeconds(5)).until(sdkSeesTheEnd::isDone);
        pending.awaitQuiet(); // and the command's own wait is over
    }

    @Test
    void withNothingPendingItEndsWithItsInput() throws Exception {
        var pending = new McpPending();
        var in = pending.input(new ByteArrayInputStream(new byte[0]));
        assertThat(in.read()).isEqualTo(-1);
        var done = CompletableFuture.runAsync(() -> {
            try {
                pending.awaitQuiet();
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        await().atMost(Duration.ofSeconds(5)).until(done::isDone);
    }
}

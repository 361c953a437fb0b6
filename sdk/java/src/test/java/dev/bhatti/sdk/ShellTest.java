package dev.bhatti.sdk;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The terminal's parts that need no daemon: its output buffer's back-pressure, and refused upgrades as typed errors. */
class ShellTest {

    @Test
    void outputPastTheLimitPausesTheSocketUntilTheReaderTakesHalf() throws Exception {
        var out = new ShellOutput();
        var resumed = new AtomicInteger();
        byte[] chunk = new byte[ShellOutput.LIMIT / 4];
        assertThat(out.add(chunk, resumed::incrementAndGet)).isTrue();
        assertThat(out.add(chunk, resumed::incrementAndGet)).isTrue();
        assertThat(out.add(chunk, resumed::incrementAndGet)).isTrue();
        assertThat(out.add(chunk, resumed::incrementAndGet)).as("full: the socket is asked for nothing more").isFalse();
        byte[] buf = new byte[chunk.length];
        assertThat(out.read(buf, 0, buf.length)).isEqualTo(chunk.length);
        assertThat(resumed).as("three quarters still wait").hasValue(0);
        out.readNBytes(chunk.length);
        assertThat(resumed).as("half taken: the socket is asked again, once").hasValue(1);
        out.readNBytes(chunk.length);
        assertThat(resumed).hasValue(1);
    }

    @Test
    void theReaderGetsTheRestThenTheEndOrTheBreak() throws Exception {
        var out = new ShellOutput();
        out.add("last words".getBytes(), () -> { });
        out.end(null);
        assertThat(new String(out.readAllBytes())).isEqualTo("last words");
        assertThat(out.read()).isEqualTo(-1);

        var broken = new ShellOutput();
        broken.add("a".getBytes(), () -> { });
        broken.end(new IOException("reset"));
        assertThat(broken.read()).isEqualTo('a');
        assertThatThrownBy(broken::read).isInstanceOf(IOException.class).hasMessageContaining("reset");
    }

    @Test
    void aTimedReadReturnsNothingAtItsDeadline() throws Exception {
        var out = new ShellOutput();
        assertThat(out.read(new byte[8], 0, 8, System.nanoTime() + Duration.ofMillis(50).toNanos())).isZero();
    }

    @Test
    void aRefusedUpgradeIsTheSandboxsTypedError() throws Exception {
        String sandbox = """
                {"id":"0123456789abcdef","name":"agent","status":"running"}""";
        try (var daemon = new FakeDaemon()) {
            daemon.on("GET /sandboxes/gone", 200, sandbox.replace("agent", "gone"));
            try (var client = Bhatti.connect(daemon.url(), "k")) {
                Sandbox sb = client.sandboxes().get("gone");
                daemon.on("GET /sandboxes/0123456789abcdef/ws", 404, "{\"error\":\"sandbox not found: gone\"}")
                        .on("GET /sandboxes/0123456789abcdef", 404, "{\"error\":\"sandbox not found: gone\"}");
                assertThatThrownBy(sb::shell).isInstanceOf(NotFound.class).hasMessage("sandbox not found: gone");
                assertThat(daemon.seen.get("GET /sandboxes/0123456789abcdef/ws").query()).isEqualTo("rows=24&cols=80");

                daemon.on("GET /sandboxes/0123456789abcdef/ws", 409, "{\"error\":\"sandbox is stopping\"}")
                        .on("GET /sandboxes/0123456789abcdef", 200, sandbox);
                assertThatThrownBy(() -> sb.shell(ShellOptions.defaults().fresh().size(50, 200))).isInstanceOf(Conflict.class);
                assertThat(daemon.seen.get("GET /sandboxes/0123456789abcdef/ws").query()).isEqualTo("rows=50&cols=200&new=true");
            }
        }
    }
}

package dev.bhatti.sdk;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A streamed exec's NDJSON: events in order, complete only with the exit; anything less is an error. */
class NdjsonEventsTest {

    private static NdjsonEvents events(String ndjson) {
        return new NdjsonEvents(new ByteArrayInputStream(ndjson.getBytes(StandardCharsets.UTF_8)), "test");
    }

    private static List<ExecEvent> all(NdjsonEvents events) {
        var list = new ArrayList<ExecEvent>();
        events.forEachRemaining(list::add);
        return list;
    }

    @Test
    void eventsComeInOrderAndEndWithTheExit() {
        var e = all(events("""
                {"type":"stdout","data":"1\\n"}
                {"type":"stderr","data":"warn\\n"}

                {"type":"stdout","data":"h\u00e9 \ud83d\ude00\\n"}
                {"type":"exit","exit_code":3,"timed_out":true}
                """));
        assertThat(e).containsExactly(new ExecEvent.Stdout("1\n"), new ExecEvent.Stderr("warn\n"), new ExecEvent.Stdout("h\u00e9 \ud83d\ude00\n"),
                new ExecEvent.Exit(3, true));
    }

    @Test
    void nothingIsReadAfterTheExit() {
        var e = events("{\"type\":\"exit\",\"exit_code\":0}\nnot json, never read\n");
        assertThat(all(e)).containsExactly(new ExecEvent.Exit(0, false));
        assertThat(e.hasNext()).isFalse();
    }

    @Test
    void eventTypesNotKnownHereAreSkipped() {
        assertThat(all(events("{\"type\":\"progress\",\"pct\":5}\r\n{\"type\":\"exit\",\"exit_code\":0}\r\n")))
                .containsExactly(new ExecEvent.Exit(0, false));
    }

    @Test
    void aStreamThatEndsBeforeTheExitIsAConnectionFailure() {
        var e = events("{\"type\":\"stdout\",\"data\":\"partial\"}\n");
        assertThat(e.next()).isEqualTo(new ExecEvent.Stdout("partial"));
        assertThatThrownBy(e::hasNext).isInstanceOf(ConnectionFailed.class).hasMessageContaining("ended before the command did");
    }

    @Test
    void aLineCutInHalfIsAConnectionFailureNotBadJson() {
        assertThatThrownBy(() -> all(events("{\"type\":\"stdout\",\"data\":\"a\"}\n{\"type\":\"std")))
                .isInstanceOf(ConnectionFailed.class).hasMessageContaining("middle of an event");
    }

    @Test
    void aReadThatFailsIsAConnectionFailure() {
        InputStream breaks = new SequenceInputStream(new ByteArrayInputStream("{\"type\":\"stdout\",\"data\":\"a\"}\n".getBytes()), new InputStream() {
            @Override
            public int read() throws IOException { throw new IOException("connection reset"); }
        });
        var e = new NdjsonEvents(breaks, "test");
        assertThat(e.next()).isEqualTo(new ExecEvent.Stdout("a"));
        assertThatThrownBy(e::next).isInstanceOf(ConnectionFailed.class).hasMessageContaining("connection reset");
    }

    @Test
    void theDaemonsErrorEventIsAServerError() {
        var e = events("{\"type\":\"stdout\",\"data\":\"a\"}\n{\"type\":\"error\",\"data\":\"the sandbox failed\"}\n");
        e.next();
        assertThatThrownBy(e::next).isInstanceOf(ServerError.class).hasMessageContaining("the sandbox failed");
    }

    @Test
    void aLineThatIsNotJsonIsAServerError() {
        assertThatThrownBy(() -> all(events("<html>\n"))).isInstanceOf(ServerError.class).hasMessageContaining("not JSON");
    }

    @Test
    void longLinesAcrossReadsAreWhole() {
        String big = "x".repeat(100_000);
        assertThat(all(events("{\"type\":\"stdout\",\"data\":\"" + big + "\"}\n{\"type\":\"exit\",\"exit_code\":0}\n")).getFirst())
                .isEqualTo(new ExecEvent.Stdout(big));
    }
}

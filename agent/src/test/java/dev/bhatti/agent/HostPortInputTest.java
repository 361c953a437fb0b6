package dev.bhatti.agent;

import dev.bhatti.protocol.PeerHangupException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HostPortInputTest {

    /** A port that reads end-of-file {@code eofs} times in a row, then {@code bytes}, then end-of-file for ever. */
    private static InputStream port(int eofs, byte[] bytes) {
        var reads = new ArrayDeque<byte[]>();
        for (int i = 0; i < eofs; i++) reads.add(new byte[0]);
        reads.add(bytes);
        return new InputStream() {
            @Override public int read() { throw new UnsupportedOperationException(); }

            @Override public int read(byte[] b, int off, int len) {
                byte[] next = reads.poll();
                if (next == null || next.length == 0) return -1;
                System.arraycopy(next, 0, b, off, next.length);
                return next.length;
            }
        };
    }

    @Test
    void theFirstEndOfFileIsAHangupAndTheNextOnesWaitForBytes() throws IOException {
        var in = new HostPortInput(port(5, new byte[] {1, 2, 3}));
        assertThatThrownBy(() -> in.read(new byte[8], 0, 8)).isInstanceOf(PeerHangupException.class);
        byte[] b = new byte[8];
        assertThat(in.read(b, 0, 8)).as("four more end-of-files are waited out").isEqualTo(3);
        assertThat(List.of(b[0], b[1], b[2])).containsExactly((byte) 1, (byte) 2, (byte) 3);
        assertThatThrownBy(() -> in.read(b, 0, 8)).as("a hangup after bytes is reported again").isInstanceOf(PeerHangupException.class);
    }

    @Test
    void askingForNothingReadsNothing() throws IOException {
        assertThat(new HostPortInput(port(0, new byte[] {1})).read(new byte[1], 0, 0)).isZero();
    }
}

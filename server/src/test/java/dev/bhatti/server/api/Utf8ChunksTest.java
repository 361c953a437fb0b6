package dev.bhatti.server.api;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class Utf8ChunksTest {

    @Test
    void charactersSplitAcrossChunksStayWhole() {
        byte[] text = "aé€😀z".getBytes(StandardCharsets.UTF_8);
        for (int cut = 0; cut <= text.length; cut++) {
            for (int cut2 = cut; cut2 <= text.length; cut2++) {
                var d = new Utf8Chunks();
                String s = d.decode(java.util.Arrays.copyOfRange(text, 0, cut))
                        + d.decode(java.util.Arrays.copyOfRange(text, cut, cut2))
                        + d.decode(java.util.Arrays.copyOfRange(text, cut2, text.length)) + d.finish();
                assertThat(s).as("cuts %d,%d", cut, cut2).isEqualTo("aé€😀z");
            }
        }
    }

    @Test
    void invalidBytesBecomeReplacementCharacters() {
        var d = new Utf8Chunks();
        assertThat(d.decode(new byte[]{'a', (byte) 0xff, 'b'}) + d.finish()).isEqualTo("a\uFFFDb");
        var e = new Utf8Chunks();
        assertThat(e.decode(new byte[]{'a', (byte) 0xe2, (byte) 0x82}) + e.finish()).isEqualTo("a\uFFFD");
    }
}

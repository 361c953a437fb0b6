package dev.bhatti.cli;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** A command's output kept within a limit: its start and end, and a marker that says how much was cut. */
class OutputCapTest {

    @Test
    void outputWithinTheLimitIsKeptWhole() {
        var cap = new OutputCap(16);
        cap.add("hello ");
        cap.add("world\n");
        assertThat(cap.text("stdout")).isEqualTo("hello world\n");
        assertThat(cap.cut()).isZero();
        assertThat(cap.total()).isEqualTo(12);
        cap.add("1234");
        assertThat(cap.text("stdout")).isEqualTo("hello world\n1234");
    }

    @Test
    void longerOutputKeepsItsFirstAndLastHalfWithAMarkerNamingTheCut() {
        var cap = new OutputCap(20);
        for (int i = 0; i < 100; i++) cap.add(String.format("%02d\n", i)); // 300 bytes
        assertThat(cap.total()).isEqualTo(300);
        assertThat(cap.cut()).isEqualTo(280);
        String text = cap.text("stdout");
        assertThat(text).startsWith("00\n01\n02\n0").endsWith("\n97\n98\n99\n")
                .contains("[... 280 bytes of stdout cut here (300 bytes in all; the first 10 and the last 10 are shown)")
                .contains("read_file");
    }

    @Test
    void oneLargeChunkIsCutTheSameWay() {
        var cap = new OutputCap(8);
        cap.add("a".repeat(4) + "b".repeat(1000) + "c".repeat(4));
        String text = cap.text("stderr");
        assertThat(text).startsWith("aaaa\n[... 1000 bytes of stderr cut").endsWith("]\ncccc");
    }

    @Test
    void aCharacterSplitByTheCutIsDroppedNotGarbled() {
        var cap = new OutputCap(8);
        // é is two bytes: the head's limit (4) falls inside the second one
        cap.add("abcé".getBytes(StandardCharsets.UTF_8)); // 5 bytes: head keeps "abc" + first byte of é
        cap.add("x".repeat(100));
        cap.add("€yz".getBytes(StandardCharsets.UTF_8)); // € is 3 bytes: the tail (4) starts in it
        String text = cap.text("stdout");
        assertThat(text).startsWith("abc\n[...").endsWith("]\nyz").doesNotContain("\uFFFD");
    }

    @Test
    void theLimitStaysTheMemoryHoweverMuchArrives() {
        var cap = new OutputCap(64 * 1024);
        byte[] mb = new byte[1024 * 1024];
        java.util.Arrays.fill(mb, (byte) 'x');
        for (int i = 0; i < 50; i++) cap.add(mb);
        assertThat(cap.total()).isEqualTo(50L * 1024 * 1024);
        assertThat(cap.text("stdout").length()).isLessThan(64 * 1024 + 400);
    }
}

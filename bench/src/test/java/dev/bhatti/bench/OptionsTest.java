package dev.bhatti.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class OptionsTest {
    private static final String[] REQUIRED = {"--url", "http://127.0.0.1:1/", "--token", "k", "--cli", "bin/bhatti"};

    private static Options parse(String... extra) {
        var all = new java.util.ArrayList<>(List.of(REQUIRED));
        all.addAll(List.of(extra));
        return Options.parse(all.toArray(String[]::new));
    }

    @Test
    void defaultsAreTheFullRun() {
        Options o = parse();
        assertThat(o.quick).isFalse();
        assertThat(o.url).isEqualTo("http://127.0.0.1:1");
        assertThat(o.thermalMemory).containsExactly(256, 1024);
        assertThat(o.concurrency).containsExactly(5, 10, 20);
        assertThat(o.fileSizes).containsExactly(1024, 10240, 102400, 1048576);
    }

    @Test
    void quickSkipsTheBigGuestAndLaterOptionsOverrideIt() {
        Options o = parse("--n-http", "7", "--quick");
        assertThat(o.quick).isTrue();
        assertThat(o.thermalMemory).containsExactly(256);
        assertThat(o.memoryMb).isEqualTo(256);
        assertThat(o.nHttp).isEqualTo(7);
        assertThat(o.jmhArgs).contains("-f 0");
    }

    @Test
    void anEmptyListSkipsASection() {
        assertThat(parse("--thermal-memory", "").thermalMemory).isEmpty();
    }
}

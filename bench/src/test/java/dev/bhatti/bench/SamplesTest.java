package dev.bhatti.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SamplesTest {

    @Test
    void percentilesAreNearestRank() {
        var s = new Samples();
        for (int ms = 1; ms <= 100; ms++) s.add(ms * 1_000_000L);
        assertThat(s.n()).isEqualTo(100);
        assertThat(s.p50()).isEqualTo(50.0);
        assertThat(s.p95()).isEqualTo(95.0);
        assertThat(s.p99()).isEqualTo(99.0);
        assertThat(s.min()).isEqualTo(1.0);
        assertThat(s.max()).isEqualTo(100.0);
    }

    @Test
    void withFewSamplesTheHighPercentilesAreTheMaximum() {
        var s = new Samples();
        for (long ms : new long[]{5, 1, 4, 2, 3}) s.add(ms * 1_000_000L);
        assertThat(s.p50()).isEqualTo(3.0);
        assertThat(s.p95()).isEqualTo(5.0);
        assertThat(s.p99()).isEqualTo(5.0);
    }

    @Test
    void emptyIsNaN() {
        assertThat(new Samples().p50()).isNaN();
    }
}

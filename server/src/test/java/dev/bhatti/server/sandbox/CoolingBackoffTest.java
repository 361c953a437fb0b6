package dev.bhatti.server.sandbox;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class CoolingBackoffTest {

    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void eachFailureDoublesTheWaitUpToTheMaximum() {
        var b = new CoolingBackoff(Duration.ofMinutes(1), Duration.ofMinutes(5));
        assertThat(b.mayTry("a", T0)).isTrue();
        assertThat(b.failed("a", T0)).isEqualTo(1);
        assertThat(b.mayTry("a", T0.plusSeconds(59))).isFalse();
        assertThat(b.mayTry("a", T0.plusSeconds(60))).isTrue();
        assertThat(b.failed("a", T0.plusSeconds(60))).isEqualTo(2);
        assertThat(b.mayTry("a", T0.plusSeconds(60 + 119))).isFalse();
        assertThat(b.mayTry("a", T0.plusSeconds(60 + 120))).isTrue();
        for (int i = 0; i < 40; i++) b.failed("a", T0); // no overflow, capped
        assertThat(b.mayTry("a", T0.plusSeconds(299))).isFalse();
        assertThat(b.mayTry("a", T0.plusSeconds(300))).isTrue();
        assertThat(b.mayTry("other", T0)).as("per sandbox").isTrue();
    }

    @Test
    void aSuccessClearsTheRecord() {
        var b = new CoolingBackoff(Duration.ofMinutes(1), Duration.ofHours(1));
        b.failed("a", T0);
        b.succeeded("a");
        assertThat(b.mayTry("a", T0)).isTrue();
        assertThat(b.failed("a", T0)).as("counting starts again").isEqualTo(1);
    }
}

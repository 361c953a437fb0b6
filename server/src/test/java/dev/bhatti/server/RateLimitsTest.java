package dev.bhatti.server;

import dev.bhatti.server.ratelimit.RateLimits;
import dev.bhatti.server.ratelimit.RateLimits.Kind;
import dev.bhatti.server.ratelimit.RateLimits.Limit;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RateLimitsTest {

    @Test
    void aBurstPassesThenRequestsWaitForTheRefill() {
        var limits = new RateLimits(Map.of(Kind.READ, new Limit(3, 60)));
        for (int i = 0; i < 3; i++) assertThat(limits.take("alice", Kind.READ).allowed()).isTrue();
        var refused = limits.take("alice", Kind.READ);
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.retryAfter().toMillis()).as("one token a second").isBetween(1L, 1000L);
        assertThat(limits.take("bob", Kind.READ).allowed()).as("buckets are per user").isTrue();
        assertThat(limits.take("alice", Kind.EXEC).allowed()).as("and per kind").isTrue();
    }

    @Test
    void zeroBurstMeansUnlimitedAndNonsenseIsRefused() {
        var limits = new RateLimits(Map.of(Kind.CREATE, new Limit(0, 0)));
        for (int i = 0; i < 1000; i++) assertThat(limits.take("alice", Kind.CREATE).allowed()).isTrue();
        assertThatThrownBy(() -> new Limit(5, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Limit(-1, 5)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new RateLimits(Map.of()).limit(Kind.EXEC)).as("defaults as the reference's code").isEqualTo(new Limit(30, 600));
    }

    @Test
    void requestsAreClassifiedAsTheReferenceDoes() {
        assertThat(RateLimits.classify("POST", "/sandboxes")).isEqualTo(Kind.CREATE);
        assertThat(RateLimits.classify("POST", "/snapshots/pre/resume")).isEqualTo(Kind.CREATE);
        assertThat(RateLimits.classify("GET", "/sandboxes")).isEqualTo(Kind.READ);
        assertThat(RateLimits.classify("POST", "/sandboxes/dev/exec")).isEqualTo(Kind.EXEC);
        assertThat(RateLimits.classify("GET", "/sandboxes/dev/exec/ws")).isEqualTo(Kind.EXEC);
        assertThat(RateLimits.classify("GET", "/sandboxes/dev/ws")).isEqualTo(Kind.EXEC);
        assertThat(RateLimits.classify("PUT", "/sandboxes/dev/files")).isEqualTo(Kind.EXEC);
        assertThat(RateLimits.classify("GET", "/sandboxes/dev/files")).isEqualTo(Kind.READ);
        assertThat(RateLimits.classify("DELETE", "/sandboxes/dev")).isEqualTo(Kind.READ);
        // the router classifies by template, so a sandbox named "exec-box" reads from the read bucket
        assertThat(RateLimits.classify("GET", "/sandboxes/{id}/files")).isEqualTo(Kind.READ);
        assertThat(RateLimits.classify("POST", "/sandboxes/{id}/exec")).isEqualTo(Kind.EXEC);
        assertThat(RateLimits.classify("POST", "/snapshots/{name}/resume")).isEqualTo(Kind.CREATE);
    }
}

package dev.bhatti.sdk;

import java.time.Duration;
import java.util.Optional;

/** 429: over a rate limit or a quota (sandboxes, CPUs, memory). Waiting helps when {@link #retryAfter()} says how long. */
public final class RateLimited extends BhattiException {
    private final Duration retryAfter;

    RateLimited(String message, Duration retryAfter) {
        super(message, 429, null);
        this.retryAfter = retryAfter;
    }

    /** How long to wait before trying again, when the daemon said (rate limits do; quotas do not, waiting will not lift them). */
    public Optional<Duration> retryAfter() { return Optional.ofNullable(retryAfter); }
}

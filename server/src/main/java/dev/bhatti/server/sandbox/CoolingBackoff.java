package dev.bhatti.server.sandbox;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Spaces out the thermal manager's retries for a sandbox that failed to cool (a disk too full for its
 * snapshot, say): each failure doubles the wait, from {@code first} up to {@code max}, so a lasting
 * problem costs one attempt now and then instead of a snapshot written and thrown away every tick.
 */
final class CoolingBackoff {

    private record Failures(int count, Instant retryAt) {}

    private final Duration first;
    private final Duration max;
    private final Map<String, Failures> failures = new ConcurrentHashMap<>();

    CoolingBackoff(Duration first, Duration max) {
        this.first = first;
        this.max = max;
    }

    boolean mayTry(String id, Instant now) {
        Failures f = failures.get(id);
        return f == null || !now.isBefore(f.retryAt());
    }

    /** Records a failure; returns how many in a row. */
    int failed(String id, Instant now) {
        return failures.compute(id, (k, f) -> {
            int count = f == null ? 1 : f.count() + 1;
            Duration wait = first.multipliedBy(1L << Math.min(count - 1, 20));
            if (wait.compareTo(max) > 0) wait = max;
            return new Failures(count, now.plus(wait));
        }).count();
    }

    void succeeded(String id) { failures.remove(id); }
}

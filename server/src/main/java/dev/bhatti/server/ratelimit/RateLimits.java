package dev.bhatti.server.ratelimit;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-user token buckets, one per class of request: creates (which boot VMs), work inside sandboxes
 * (exec, file writes, WebSockets) and everything else. A full bucket allows a burst; it refills
 * steadily. A request over the limit is refused with the time after which it would pass.
 */
public final class RateLimits {

    /**
     * The classes of requests, each with its own bucket per user; AUTH_FAILURE counts failed
     * authentications per client address instead (there is no user to charge them to).
     */
    public enum Kind { CREATE, EXEC, READ, AUTH_FAILURE }

    /** {@code burst} requests at once, refilled at {@code perMinute}; a burst of 0 means unlimited. */
    public record Limit(long burst, long perMinute) {
        public Limit {
            if (burst < 0 || perMinute < 0 || (burst > 0 && perMinute == 0)) {
                throw new IllegalArgumentException("a rate limit needs burst >= 0 and, unless burst is 0, per_minute > 0");
            }
        }

        boolean unlimited() { return burst == 0; }
    }

    /** The defaults of the reference's code: create 10 / 30 per min, exec 30 / 600, read 60 / 1200; 20 / 60 failed keys per address. */
    public static final Map<Kind, Limit> DEFAULTS = Map.of(
            Kind.CREATE, new Limit(10, 30), Kind.EXEC, new Limit(30, 600), Kind.READ, new Limit(60, 1200),
            Kind.AUTH_FAILURE, new Limit(20, 60));

    /** The answer to one request: allowed, or refused for {@code retryAfter}. */
    public record Decision(boolean allowed, Duration retryAfter) {
        /** Whole seconds to wait, at least one, as {@code Retry-After} wants them. */
        public long retryAfterSeconds() { return Math.max(1, (retryAfter.toMillis() + 999) / 1000); }
    }

    private record Key(String userId, Kind kind) {}

    private final Map<Kind, Limit> limits;
    private final Map<Key, Bucket> buckets = new ConcurrentHashMap<>();

    public RateLimits(Map<Kind, Limit> limits) { this.limits = Map.copyOf(limits); }

    public Limit limit(Kind kind) { return limits.getOrDefault(kind, DEFAULTS.get(kind)); }

    public Decision take(String userId, Kind kind) {
        Limit limit = limit(kind);
        if (limit.unlimited()) return new Decision(true, Duration.ZERO);
        Bucket bucket = buckets.computeIfAbsent(new Key(userId, kind), k -> Bucket.builder()
                .addLimit(l -> l.capacity(limit.burst()).refillGreedy(limit.perMinute(), Duration.ofMinutes(1)))
                .build());
        ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
        return probe.isConsumed() ? new Decision(true, Duration.ZERO) : new Decision(false, Duration.ofNanos(probe.getNanosToWaitForRefill()));
    }

    /**
     * Which bucket a route's requests draw from, as the reference classifies them, told by the route's
     * method and path template ({@code /sandboxes/{id}/exec}): a sandbox's name never changes its bucket.
     */
    public static Kind classify(String method, String path) {
        if (method.equals("POST") && (path.equals("/sandboxes") || path.matches("/snapshots/[^/]+/resume"))) return Kind.CREATE;
        if (path.contains("/exec") || path.endsWith("/ws") || (method.equals("PUT") && path.endsWith("/files"))) return Kind.EXEC;
        return Kind.READ;
    }

    /** Forgets a user's buckets (a deleted user, a test). */
    public void forget(String userId) { buckets.keySet().removeIf(k -> k.userId().equals(userId)); }
}

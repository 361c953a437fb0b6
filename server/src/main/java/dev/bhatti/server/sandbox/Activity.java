package dev.bhatti.server.sandbox;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/**
 * When each sandbox was last used, and how many operations on it are under way right now (running
 * execs, attached shells, open forwarded connections). A sandbox with work under way is busy however
 * long ago that work began; the thermal manager only cools idle ones.
 */
public final class Activity {

    /**
     * {@code gate} orders waking against cooling: a request registers its activity and wakes the
     * sandbox under it, the thermal manager checks idleness and cools under it, so a sandbox is never
     * paused between a request's check and its use.
     */
    private record Entry(AtomicInteger inFlight, AtomicReference<Instant> last,
                         ReentrantLock gate) {}

    private final Clock clock;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    public Activity(Clock clock) { this.clock = clock; }

    private Entry entry(String id) {
        return entries.computeIfAbsent(id, k -> new Entry(new AtomicInteger(),
                new AtomicReference<>(clock.instant()), new ReentrantLock()));
    }

    /** A request touched the sandbox. */
    public void touch(String id) { entry(id).last().set(clock.instant()); }

    /** An operation that lasts (an exec, a shell, a forwarded connection) began. Pair with {@link #end}. */
    public void begin(String id) {
        Entry e = entry(id);
        e.inFlight().incrementAndGet();
        e.last().set(clock.instant());
    }

    public void end(String id) {
        Entry e = entry(id);
        e.inFlight().decrementAndGet();
        e.last().set(clock.instant());
    }

    /** Since when the sandbox has been idle, or null while operations on it are under way. */
    public Instant idleSince(String id) {
        Entry e = entry(id);
        return e.inFlight().get() > 0 ? null : e.last().get();
    }

    public void forget(String id) { entries.remove(id); }

    /** Held while registering a request and waking, or while deciding to cool and cooling. */
    public ReentrantLock gate(String id) { return entry(id).gate(); }

    /** An operation under way until {@link #close} (idempotent): an attached shell, say. */
    public interface Busy extends AutoCloseable {
        @Override void close();
    }

    public Busy busy(String id) {
        begin(id);
        var done = new AtomicBoolean();
        return () -> {
            if (done.compareAndSet(false, true)) end(id);
        };
    }
}

package dev.bhatti.server.sandbox;

import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.VmState;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import dev.bhatti.server.events.Events;

/**
 * When sandboxes cool: every tick, each sandbox that is not kept hot is offered a cooling step
 * ({@link SandboxLifecycle#coolIfIdle}: paused after {@code warmAfter} idle, to disk after
 * {@code coldAfter}); one whose cooling failed waits longer each time. Any request wakes a sandbox again.
 */
public final class ThermalManager implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ThermalManager.class);

    /** When to cool; zero durations disable that step. */
    public record Policy(Duration warmAfter, Duration coldAfter, Duration tick) {}

    private final Store store;
    private final SandboxLifecycle lifecycle;
    private final Policy policy;
    private final Clock clock;
    private final CoolingBackoff backoff;
    private volatile Thread loop;

    private final Events events;

    public ThermalManager(Store store, SandboxLifecycle lifecycle, Policy policy, Clock clock, Events events) {
        this.events = events;
        this.store = store;
        this.lifecycle = lifecycle;
        this.policy = policy;
        this.clock = clock;
        this.backoff = new CoolingBackoff(Duration.ofMinutes(1), Duration.ofHours(1));
    }

    public void start() {
        loop = Thread.ofVirtual().name("thermal-manager").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(policy.tick());
                    cycle();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    log.error("thermal cycle failed", e);
                }
            }
        });
    }

    /** One pass over every sandbox. */
    void cycle() {
        for (SandboxRecord s : store.allSandboxes()) {
            if (s.keepHot()) continue;
            if (!backoff.mayTry(s.id(), clock.instant())) continue;
            try {
                var step = lifecycle.coolIfIdle(s, policy.warmAfter(), policy.coldAfter(), clock.instant());
                if (step.isPresent()) {
                    long idle = step.get().idle().toSeconds();
                    if (step.get().to() == VmState.PAUSED) {
                        log.info("sandbox {} idle for {} s: paused (warm)", s.name(), idle);
                        events.record("thermal.warm", null, s.name(), "idle for " + idle + " s");
                    } else {
                        log.info("sandbox {} idle for {} s: snapshotted to disk (cold)", s.name(), idle);
                        events.record("thermal.cold", null, s.name(), "idle for " + idle + " s");
                    }
                }
                backoff.succeeded(s.id());
            } catch (EngineException e) {
                int times = backoff.failed(s.id(), clock.instant());
                log.warn("could not cool sandbox {} ({} time(s) in a row; retrying later): {}", s.name(), times, e.getMessage());
                events.record("thermal.failed", null, s.name(), e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        var t = loop;
        if (t != null) t.interrupt();
    }
}

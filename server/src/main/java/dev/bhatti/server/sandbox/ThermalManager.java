package dev.bhatti.server.sandbox;

import dev.bhatti.engine.Engine;
import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.VmInfo;
import dev.bhatti.engine.VmState;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Where a sandbox goes cold: every tick, an idle hot sandbox is paused after {@code warmAfter} and an
 * idle warm one is snapshotted to disk after {@code coldAfter} (both counted from its last activity).
 * Sandboxes with work under way (execs, attached shells, forwarded connections) and keep_hot ones are
 * left alone. Any request wakes a sandbox again ({@link SandboxService}).
 */
public final class ThermalManager implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ThermalManager.class);

    /** When to cool; zero durations disable that step. */
    public record Policy(Duration warmAfter, Duration coldAfter, Duration tick) {}

    private final Store store;
    private final Engine engine;
    private final Activity activity;
    private final Policy policy;
    private final Clock clock;
    private final CoolingBackoff backoff;
    private volatile Thread loop;

    private final dev.bhatti.server.events.Events events;

    public ThermalManager(Store store, Engine engine, Activity activity, Policy policy, Clock clock, dev.bhatti.server.events.Events events) {
        this.events = events;
        this.store = store;
        this.engine = engine;
        this.activity = activity;
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
            var gate = activity.gate(s.id());
            if (!gate.tryLock()) continue; // a request is waking or using it right now
            try {
                VmState state = engine.info(s.id()).map(VmInfo::state).orElse(null);
                if (state != VmState.RUNNING && state != VmState.PAUSED) continue;
                Instant idleSince = activity.idleSince(s.id());
                if (idleSince == null) continue; // busy
                Duration idle = Duration.between(idleSince, clock.instant());
                if (state == VmState.RUNNING && !policy.warmAfter().isZero() && idle.compareTo(policy.warmAfter()) >= 0) {
                    engine.pause(s.id());
                    log.info("sandbox {} idle for {} s: paused (warm)", s.name(), idle.toSeconds());
                    events.record("thermal.warm", null, s.name(), "idle for " + idle.toSeconds() + " s");
                } else if (state == VmState.PAUSED && !policy.coldAfter().isZero() && idle.compareTo(policy.coldAfter()) >= 0) {
                    engine.suspend(s.id());
                    store.updateStatus(s.id(), "stopped", "");
                    log.info("sandbox {} idle for {} s: snapshotted to disk (cold)", s.name(), idle.toSeconds());
                    events.record("thermal.cold", null, s.name(), "idle for " + idle.toSeconds() + " s");
                }
                backoff.succeeded(s.id());
            } catch (EngineException e) {
                int times = backoff.failed(s.id(), clock.instant());
                log.warn("could not cool sandbox {} ({} time(s) in a row; retrying later): {}", s.name(), times, e.getMessage());
                events.record("thermal.failed", null, s.name(), e.getMessage());
            } finally {
                gate.unlock();
            }
        }
    }

    @Override
    public void close() {
        var t = loop;
        if (t != null) t.interrupt();
    }
}

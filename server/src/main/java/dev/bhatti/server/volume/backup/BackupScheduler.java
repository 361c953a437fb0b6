package dev.bhatti.server.volume.backup;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs the scheduled backups of config.yaml: each entry's job when its cron time comes (in the clock's
 * zone), on a virtual thread of its own; an entry still running when it is due again is skipped, and
 * times missed while the daemon was down or busy are not made up (one run, at the next due time).
 * <pre>
 * var scheduler = BackupScheduler.start(config.schedule(), (user, volume, keep) -> { ...backup, then retain... });
 * ...
 * scheduler.close();
 * </pre>
 */
public final class BackupScheduler implements AutoCloseable {

    /** What a due entry does: back up the volume of the user named {@code user}, then keep {@code retention} backups. */
    @FunctionalInterface
    public interface Job {
        void run(String user, String volume, int retention) throws Exception;
    }

    private static final Logger LOG = LoggerFactory.getLogger(BackupScheduler.class);
    private static final CronParser CRON = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
    /** The longest sleep between looks at the clock, so a changed wall clock is noticed. */
    private static final Duration MAX_NAP = Duration.ofMinutes(1);

    private final Due due;
    private final Job job;
    private final Clock clock;
    private final Set<BackupConfig.Schedule> running = ConcurrentHashMap.newKeySet();
    private final Object wake = new Object();
    private volatile boolean stopped;
    private Thread loop;

    private BackupScheduler(List<BackupConfig.Schedule> entries, Job job, Clock clock) {
        this.clock = clock;
        this.due = new Due(entries, clock.instant(), clock);
        this.job = job;
    }

    /** Starts the loop on a virtual thread; with no entries it does nothing. */
    public static BackupScheduler start(List<BackupConfig.Schedule> entries, Job job) {
        return start(entries, job, Clock.systemDefaultZone());
    }

    public static BackupScheduler start(List<BackupConfig.Schedule> entries, Job job, Clock clock) {
        var s = new BackupScheduler(entries, job, clock);
        if (!entries.isEmpty()) s.loop = Thread.ofVirtual().name("backup-scheduler").start(s::loop);
        return s;
    }

    private void loop() {
        while (!stopped) {
            for (BackupConfig.Schedule e : due.take(clock.instant())) launch(e);
            Instant next = due.next();
            long millis = next == null ? MAX_NAP.toMillis()
                    : Math.clamp(Duration.between(clock.instant(), next).toMillis() + 1, 1, MAX_NAP.toMillis());
            synchronized (wake) {
                if (stopped) return;
                try {
                    wake.wait(millis);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private void launch(BackupConfig.Schedule e) {
        if (!running.add(e)) {
            LOG.warn("scheduled backup of volume {} (user {}) is due but its last run has not finished; skipped", e.volume(), e.user());
            return;
        }
        Thread.ofVirtual().name("backup-" + e.volume()).start(() -> {
            try {
                job.run(e.user(), e.volume(), e.retention());
            } catch (Exception ex) {
                LOG.error("scheduled backup of volume {} (user {}) failed: {}", e.volume(), e.user(), ex.getMessage());
            } finally {
                running.remove(e);
            }
        });
    }

    @Override
    public void close() throws InterruptedException {
        stopped = true;
        synchronized (wake) {
            wake.notifyAll();
        }
        if (loop != null) loop.join();
    }

    /**
     * When each entry is next due, and which are due at a given instant: the part of scheduling with no
     * threads in it. Not thread-safe; one loop owns it.
     */
    static final class Due {
        private final List<BackupConfig.Schedule> entries;
        private final List<ExecutionTime> times = new ArrayList<>();
        private final List<Instant> next = new ArrayList<>();
        private final Clock clock;

        Due(List<BackupConfig.Schedule> entries, Instant from, Clock clock) {
            this.entries = List.copyOf(entries);
            this.clock = clock;
            for (var e : this.entries) {
                ExecutionTime t = ExecutionTime.forCron(CRON.parse(e.cron()));
                times.add(t);
                next.add(after(t, from));
            }
        }

        /** The entries due at {@code now} (each at most once), each then rescheduled after {@code now}. */
        List<BackupConfig.Schedule> take(Instant now) {
            var out = new ArrayList<BackupConfig.Schedule>();
            for (int i = 0; i < entries.size(); i++) {
                Instant n = next.get(i);
                if (n != null && !n.isAfter(now)) {
                    out.add(entries.get(i));
                    next.set(i, after(times.get(i), now));
                }
            }
            return out;
        }

        /** The soonest time any entry is due; null if none ever is. */
        Instant next() {
            return next.stream().filter(java.util.Objects::nonNull).min(Instant::compareTo).orElse(null);
        }

        private Instant after(ExecutionTime t, Instant from) {
            return t.nextExecution(ZonedDateTime.ofInstant(from, clock.getZone())).map(ZonedDateTime::toInstant).orElse(null);
        }
    }
}

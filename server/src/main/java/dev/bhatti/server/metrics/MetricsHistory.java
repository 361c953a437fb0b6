package dev.bhatti.server.metrics;

import dev.bhatti.server.store.MetricsSnapshotRecord;
import dev.bhatti.server.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The short history behind {@code bhatti admin metrics}: every minute a row of summary numbers in the
 * store ({@code metrics_snapshots}), rows older than {@link #RETENTION} dropped as new ones come, and
 * the same numbers now, with the counters since the daemon started ({@link #now}).
 */
public final class MetricsHistory implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MetricsHistory.class);

    public static final Duration EVERY = Duration.ofSeconds(60);
    public static final Duration RETENTION = Duration.ofDays(30);
    /** At most this many rows in one answer: 30 days of minutes is 43,200; the newest are kept. */
    public static final int MAX_ROWS = 1440;

    /** The numbers now, and the rows since the time asked for (oldest first). */
    public record Summary(Instant at, SandboxCensus.Count census, HostStats host, long apiRequests, long apiErrors,
                          Metrics.ExecTotals execs, Map<String, Long> wakes, long vmRssBytes, List<MetricsSnapshotRecord> history) {}

    private final Store store;
    private final SandboxCensus census;
    private final Metrics metrics;
    private final Path dataDir;
    private final Clock clock;
    private long requestsBefore;
    private long errorsBefore;
    private volatile Thread loop;

    public MetricsHistory(Store store, SandboxCensus census, Metrics metrics, Path dataDir, Clock clock) {
        this.store = store;
        this.census = census;
        this.metrics = metrics;
        this.dataDir = dataDir;
        this.clock = clock;
    }

    /** Records a row every {@link #EVERY} until closed. */
    public void start() {
        loop = Thread.ofVirtual().name("metrics-snapshots").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(EVERY);
                    record();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    log.warn("metrics snapshot not recorded: {}", e.getMessage());
                }
            }
        });
    }

    /** Takes and stores one row (API requests and errors since the last one) and drops rows past retention. */
    public synchronized MetricsSnapshotRecord record() {
        Instant now = clock.instant();
        var count = census.take();
        var host = HostStats.read(dataDir);
        long requests = metrics.requestsTotal();
        long errors = metrics.errorsTotal();
        var row = new MetricsSnapshotRecord(now, count.in("hot"), count.in("warm"), count.in("cold"), count.sandboxes().size(), count.users(),
                requests - requestsBefore, errors - errorsBefore, host.load1(), host.memoryTotalBytes(), host.memoryAvailableBytes());
        store.recordMetricsSnapshot(row);
        requestsBefore = requests;
        errorsBefore = errors;
        int dropped = store.deleteMetricsSnapshotsBefore(now.minus(RETENTION));
        if (dropped > 0) log.debug("dropped {} metrics snapshots older than {} days", dropped, RETENTION.toDays());
        return row;
    }

    /** The numbers now, and the stored rows since {@code since} (at most {@link #MAX_ROWS}, the newest). */
    public Summary now(Instant since) {
        var count = census.take();
        long rss = 0;
        for (var e : count.sandboxes()) rss += Math.max(0, HostStats.rssBytes(e.pid()));
        return new Summary(clock.instant(), count, HostStats.read(dataDir), metrics.requestsTotal(), metrics.errorsTotal(),
                metrics.execTotals(), metrics.wakesByKind(), rss, store.metricsSnapshots(since, MAX_ROWS));
    }

    @Override
    public void close() {
        var t = loop;
        if (t != null) t.interrupt();
    }
}

package dev.bhatti.server.metrics;

import io.prometheus.metrics.core.metrics.GaugeWithCallback;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code /metrics} reads at scrape time rather than counts: sandboxes by user and state, users,
 * each VM's resident memory on the host, and the host itself (load, memory, the data directory's disk).
 */
public final class DaemonGauges {
    private DaemonGauges() {}

    public static void register(Metrics metrics, SandboxCensus census, Path dataDir) {
        metrics.register(GaugeWithCallback.builder().name("bhatti_sandboxes")
                .help("Sandboxes by user and state: hot, warm, cold, or starting, stopped, error")
                .labelNames("user", "state")
                .callback(cb -> {
                    Map<String, Integer> counts = new TreeMap<>();
                    for (var e : census.take().sandboxes()) counts.merge(e.user() + "\0" + e.state(), 1, Integer::sum);
                    counts.forEach((key, n) -> {
                        int cut = key.indexOf('\0');
                        cb.call(n, key.substring(0, cut), key.substring(cut + 1));
                    });
                }).build());
        metrics.register(GaugeWithCallback.builder().name("bhatti_users").help("Users (accounts with an API key)")
                .callback(cb -> cb.call(census.take().users())).build());
        metrics.register(GaugeWithCallback.builder().name("bhatti_sandbox_memory_rss_bytes")
                .help("Resident memory on the host of each sandbox's VM process (QEMU's VmRSS); cold sandboxes have none")
                .labelNames("user", "sandbox")
                .callback(cb -> {
                    for (var e : census.take().sandboxes()) {
                        long rss = HostStats.rssBytes(e.pid());
                        if (rss >= 0) cb.call(rss, e.user(), e.sandbox());
                    }
                }).build());
        metrics.register(GaugeWithCallback.builder().name("bhatti_host_load_average")
                .help("The host's load average over 1, 5 and 15 minutes").labelNames("period")
                .callback(cb -> {
                    var h = HostStats.read(dataDir);
                    cb.call(h.load1(), "1m");
                    cb.call(h.load5(), "5m");
                    cb.call(h.load15(), "15m");
                }).build());
        metrics.register(GaugeWithCallback.builder().name("bhatti_host_cpus").help("CPUs the daemon sees on the host")
                .callback(cb -> cb.call(Runtime.getRuntime().availableProcessors())).build());
        metrics.register(GaugeWithCallback.builder().name("bhatti_host_memory_bytes")
                .help("The host's memory: total, and available (MemAvailable) for new work").labelNames("kind")
                .callback(cb -> {
                    var h = HostStats.read(dataDir);
                    cb.call(h.memoryTotalBytes(), "total");
                    cb.call(h.memoryAvailableBytes(), "available");
                }).build());
        metrics.register(GaugeWithCallback.builder().name("bhatti_data_disk_bytes")
                .help("The file system of the data directory: total, and free for the daemon").labelNames("kind")
                .callback(cb -> {
                    var h = HostStats.read(dataDir);
                    cb.call(h.diskTotalBytes(), "total");
                    cb.call(h.diskFreeBytes(), "free");
                }).build());
    }
}

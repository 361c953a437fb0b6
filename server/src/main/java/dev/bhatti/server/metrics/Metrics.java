package dev.bhatti.server.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The daemon's metrics registry (one per daemon, handed to what owns each event) and the instruments
 * that count events as they happen: transitions, execs, wakes, API requests. What is read at scrape
 * time (sandboxes, host, memory of the VMs) registers itself here as a {@link Collector}
 * ({@link DaemonGauges}). Exposed in the Prometheus text format by the Prometheus Java client.
 */
public final class Metrics {
    /** Seconds: a resume takes a millisecond, a restore from disk or a snapshot to it seconds to a minute. */
    private static final double[] TRANSITION_BUCKETS = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
    /** Seconds: an exec's own cost is milliseconds; commands run up to their timeout. */
    private static final double[] EXEC_BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800};
    /** Any other method a client sends is counted as "other": a label value per request would grow without end. */
    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter text = PrometheusTextFormatWriter.create();
    private final Histogram transitions;
    private final Histogram execs;
    private final Counter wakes;
    private final Counter requests;
    private final Counter errors;

    public Metrics() {
        transitions = Histogram.builder().name("bhatti_transition_seconds")
                .help("Time of thermal transitions: pause, resume, stop (to disk), start (from disk), by what caused them: "
                        + "api (asked for), idle (the thermal manager), wake (a request to a warm or cold sandbox)")
                .labelNames("transition", "cause").classicOnly().classicUpperBounds(TRANSITION_BUCKETS).register(registry);
        execs = Histogram.builder().name("bhatti_exec_seconds")
                .help("Time of execs through the API, from the request to the command's end (a wake included): buffered, stream or detached")
                .labelNames("mode").classicOnly().classicUpperBounds(EXEC_BUCKETS).register(registry);
        wakes = Counter.builder().name("bhatti_wakes_total")
                .help("Warm or cold sandboxes woken by use, by what used them: api (a request), proxy (a published port), forward (a port forward)")
                .labelNames("from", "by").register(registry);
        requests = Counter.builder().name("bhatti_api_requests_total")
                .help("API requests, by method and route template").labelNames("method", "route").register(registry);
        errors = Counter.builder().name("bhatti_api_errors_total")
                .help("API requests answered with an error status (4xx, 5xx)").labelNames("method", "route", "status").register(registry);
        // every series that can occur starts at zero, so that rates and absences mean something from the first scrape
        for (String[] t : new String[][] {{"pause", "api"}, {"pause", "idle"}, {"resume", "api"}, {"resume", "wake"}, {"stop", "api"},
                {"stop", "idle"}, {"start", "api"}, {"start", "wake"}}) {
            transitions.labelValues(t);
        }
        for (String mode : new String[] {"buffered", "stream", "detached"}) execs.labelValues(mode);
        for (String from : new String[] {"warm", "cold"}) {
            for (String by : new String[] {"api", "proxy", "forward"}) wakes.labelValues(from, by);
        }
    }

    /** A thermal transition that completed, {@code nanos} long. */
    public void transition(String transition, String cause, long nanos) {
        transitions.labelValues(transition, cause).observe(nanos / 1e9);
    }

    /** An exec that ran to its end, {@code nanos} long. */
    public void exec(String mode, long nanos) { execs.labelValues(mode).observe(nanos / 1e9); }

    /** A sandbox woken from {@code from} (warm, cold) by a use of kind {@code by}. */
    public void wake(String from, String by) { wakes.labelValues(from, by).inc(); }

    /** One API request answered with {@code status}; {@code route} is its template (not the path: bounded label values). */
    public void request(String method, String route, int status) {
        String m = METHODS.contains(method) ? method : "other";
        requests.labelValues(m, route).inc();
        if (status >= 400) errors.labelValues(m, route, Integer.toString(status)).inc();
    }

    /** API requests since the daemon started. */
    public long requestsTotal() { return total(requests.collect()); }

    /** API requests answered with an error since the daemon started. */
    public long errorsTotal() { return total(errors.collect()); }

    /** Execs since the daemon started, and their summed seconds. */
    public ExecTotals execTotals() {
        HistogramSnapshot snapshot = execs.collect();
        long count = 0;
        double sum = 0;
        for (var p : snapshot.getDataPoints()) {
            count += p.getCount();
            sum += p.hasSum() ? p.getSum() : 0;
        }
        return new ExecTotals(count, sum);
    }

    public record ExecTotals(long count, double seconds) {}

    /** Wakes since the daemon started, by label pair "from/by". */
    public Map<String, Long> wakesByKind() {
        var out = new TreeMap<String, Long>();
        for (var p : wakes.collect().getDataPoints()) {
            out.put(p.getLabels().get("from") + "/" + p.getLabels().get("by"), (long) p.getValue());
        }
        return out;
    }

    /** Adds what is measured at scrape time. */
    void register(Collector collector) { registry.register(collector); }

    /** The content type of {@link #write}: the Prometheus text format 0.0.4. */
    public String contentType() { return text.getContentType(); }

    /** Every metric now, in the Prometheus text format. */
    public void write(OutputStream out) throws IOException { text.write(out, registry.scrape()); }

    private static long total(CounterSnapshot snapshot) {
        double sum = 0;
        for (var p : snapshot.getDataPoints()) sum += p.getValue();
        return (long) sum;
    }
}

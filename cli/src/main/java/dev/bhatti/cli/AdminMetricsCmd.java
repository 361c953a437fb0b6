package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code bhatti admin metrics}: the daemon's numbers now and their recent history (a row a minute),
 * from {@code GET /admin/metrics} with the admin's key. Prometheus reads the same daemon at {@code /metrics}.
 */
@Command(name = "metrics", description = {"The daemon's numbers now (sandboxes, users, requests, execs, wakes, host)",
        "and their history: a row a minute, kept 30 days. Needs the admin's key.",
        "Prometheus scrapes the same daemon at GET /metrics (README: Operations)."},
        mixinStandardHelpOptions = true)
final class AdminMetricsCmd implements Callable<Integer> {
    /** At most this many history lines; longer spans are summed into wider lines. */
    static final int MAX_LINES = 30;

    @Mixin ClientOptions opts;
    @Option(names = "--since", description = "History from this long ago (30m, 1h, 7d) or an ISO instant (default 1h)") String since = "1h";

    @Override
    public Integer call() throws CliException {
        JsonNode m = opts.client().get("/admin/metrics?since=" + ApiClient.segment(since)).body();
        if (opts.json) {
            Output.json(m);
            return 0;
        }
        JsonNode s = m.path("sandboxes");
        var others = new StringBuilder();
        s.path("by_state").properties().forEach(e -> {
            if (!List.of("hot", "warm", "cold").contains(e.getKey())) others.append(", ").append(e.getValue().asInt()).append(' ').append(e.getKey());
        });
        System.out.println("sandboxes:  " + s.path("total").asInt() + " (" + s.path("hot").asInt() + " hot, " + s.path("warm").asInt() + " warm, "
                + s.path("cold").asInt() + " cold" + others + "), " + gb(m.path("vm_rss_bytes").asLong()) + " resident in their VMs");
        System.out.println("users:      " + m.path("users").asInt());
        JsonNode api = m.path("api");
        System.out.println("api:        " + api.path("requests_total").asLong() + " requests, " + api.path("errors_total").asLong()
                + " errors since the daemon started");
        JsonNode execs = m.path("execs");
        long n = execs.path("count").asLong();
        System.out.println("execs:      " + n + (n > 0 ? String.format(Locale.ROOT, ", %.3f s on average", execs.path("seconds_total").asDouble() / n) : ""));
        var wakes = new ArrayList<String>();
        m.path("wakes").properties().forEach(e -> {
            if (e.getValue().asLong() > 0) wakes.add(e.getKey() + " " + e.getValue().asLong());
        });
        System.out.println("wakes:      " + (wakes.isEmpty() ? "none" : String.join(", ", wakes)) + "  (from/by)");
        JsonNode h = m.path("host");
        System.out.println(String.format(Locale.ROOT, "host:       load %.2f %.2f %.2f on %d CPUs; memory %s of %s available; disk %s of %s free",
                h.path("load1").asDouble(), h.path("load5").asDouble(), h.path("load15").asDouble(), h.path("cpus").asInt(),
                gb(h.path("memory_available_bytes").asLong()), gb(h.path("memory_total_bytes").asLong()),
                gb(h.path("disk_free_bytes").asLong()), gb(h.path("disk_total_bytes").asLong())));
        System.out.println();
        history(m.path("history"));
        return 0;
    }

    /** The rows, summed into at most {@link #MAX_LINES} lines: requests and errors added up, the rest as at each line's end. */
    private void history(JsonNode rows) {
        int count = rows.size();
        if (count == 0) {
            System.out.println("no history since " + since + " yet (a row is stored every minute)");
            return;
        }
        int per = (count + MAX_LINES - 1) / MAX_LINES;
        System.out.println("history since " + since + (per > 1 ? " (" + per + " minutes a line)" : " (a minute a line)") + ":");
        var lines = new ArrayList<List<String>>();
        for (int start = 0; start < count; start += per) {
            long requests = 0, errors = 0;
            JsonNode last = null;
            for (int i = start; i < Math.min(count, start + per); i++) {
                last = rows.get(i);
                requests += last.path("api_requests").asLong();
                errors += last.path("api_errors").asLong();
            }
            lines.add(List.of(last.path("at").asString(), Integer.toString(last.path("sandboxes_hot").asInt()), Integer.toString(last.path("sandboxes_warm").asInt()),
                    Integer.toString(last.path("sandboxes_cold").asInt()), Integer.toString(last.path("sandboxes_total").asInt()),
                    Integer.toString(last.path("users").asInt()), Long.toString(requests), Long.toString(errors),
                    String.format(Locale.ROOT, "%.2f", last.path("load1").asDouble()), gb(last.path("memory_available_bytes").asLong())));
        }
        Output.table(List.of("AT", "HOT", "WARM", "COLD", "TOTAL", "USERS", "REQUESTS", "ERRORS", "LOAD1", "MEM AVAIL"), lines);
    }

    static String gb(long bytes) {
        if (bytes < 0) return "?";
        if (bytes < 1L << 30) return String.format(Locale.ROOT, "%.0f MB", bytes / 1048576.0);
        return String.format(Locale.ROOT, "%.1f GB", bytes / 1073741824.0);
    }
}

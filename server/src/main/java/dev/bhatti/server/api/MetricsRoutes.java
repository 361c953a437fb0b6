package dev.bhatti.server.api;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.store.Ages;
import dev.bhatti.server.metrics.HostStats;
import dev.bhatti.server.metrics.Metrics;
import dev.bhatti.server.metrics.MetricsHistory;
import dev.bhatti.server.metrics.MetricsToken;
import dev.bhatti.server.store.MetricsSnapshotRecord;
import org.eclipse.jetty.http.HttpHeader;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /metrics}: every metric in the Prometheus text format, for the admin's key or the metrics
 * token ({@link MetricsToken}); any other user's key is refused (403). {@code GET /admin/metrics}: the
 * summary now and the stored history, for {@code bhatti admin metrics} (admin only).
 */
final class MetricsRoutes {
    private final Metrics metrics;
    private final MetricsHistory history;
    private final MetricsToken token;
    private final Authentication authentication;

    MetricsRoutes(Metrics metrics, MetricsHistory history, MetricsToken token, Authentication authentication) {
        this.metrics = metrics;
        this.history = history;
        this.token = token;
        this.authentication = authentication;
    }

    List<Route> routes() {
        return List.of(
                // open in the table: it takes the metrics token as well as keys, and checks both itself
                Route.open("GET", "/metrics", this::scrape),
                Route.keyed("GET", "/admin/metrics", this::summary));
    }

    private Reply scrape(Call c) throws IOException {
        String header = c.request().getHeaders().get(HttpHeader.AUTHORIZATION);
        if (header == null || !header.startsWith("Bearer ") || header.length() <= 7) {
            throw DomainException.unauthorized("authorization required: send 'Authorization: Bearer <admin api key or metrics token>'");
        }
        if (!token.matches(header.substring(7).strip())) Authentication.requireAdmin(authentication.authenticate(c.request()), "/metrics");
        var body = new ByteArrayOutputStream(16 * 1024);
        metrics.write(body);
        c.response().getHeaders().put(HttpHeader.CONTENT_TYPE, metrics.contentType());
        c.response().write(true, ByteBuffer.wrap(body.toByteArray()), c.callback());
        return Reply.STREAMED;
    }

    private Reply summary(Call c) {
        Authentication.requireAdmin(c.user(), "/admin/metrics");
        String since = QueryParameters.of(c.request()).getValue("since");
        var s = history.now(since(since == null || since.isEmpty() ? "1h" : since, Instant.now()));
        var out = new LinkedHashMap<String, Object>();
        out.put("at", s.at().toString());
        var sandboxes = new LinkedHashMap<String, Object>();
        sandboxes.put("total", s.census().sandboxes().size());
        for (String state : List.of("hot", "warm", "cold")) sandboxes.put(state, s.census().in(state));
        sandboxes.put("by_state", s.census().byState());
        out.put("sandboxes", sandboxes);
        out.put("users", s.census().users());
        out.put("api", Map.of("requests_total", s.apiRequests(), "errors_total", s.apiErrors()));
        out.put("execs", Map.of("count", s.execs().count(), "seconds_total", s.execs().seconds()));
        out.put("wakes", s.wakes());
        out.put("vm_rss_bytes", s.vmRssBytes());
        out.put("host", host(s.host()));
        out.put("history", s.history().stream().map(MetricsRoutes::row).toList());
        return Reply.ok(out);
    }

    /** {@code since}: an age (30m, 1h, 7d) or an ISO-8601 instant. */
    static Instant since(String since, Instant now) {
        var ago = Ages.before(since, now);
        if (ago.isPresent()) return ago.get();
        try {
            return Instant.parse(since);
        } catch (DateTimeParseException e) {
            throw DomainException.invalid("since must be an age like 30m, 1h, 7d or an instant like 2026-12-01T10:00:00Z");
        }
    }

    private static Map<String, Object> host(HostStats h) {
        var out = new LinkedHashMap<String, Object>();
        out.put("load1", h.load1());
        out.put("load5", h.load5());
        out.put("load15", h.load15());
        out.put("cpus", h.cpus());
        out.put("memory_total_bytes", h.memoryTotalBytes());
        out.put("memory_available_bytes", h.memoryAvailableBytes());
        out.put("disk_total_bytes", h.diskTotalBytes());
        out.put("disk_free_bytes", h.diskFreeBytes());
        return out;
    }

    private static Map<String, Object> row(MetricsSnapshotRecord r) {
        var out = new LinkedHashMap<String, Object>();
        out.put("at", r.at().toString());
        out.put("sandboxes_hot", r.sandboxesHot());
        out.put("sandboxes_warm", r.sandboxesWarm());
        out.put("sandboxes_cold", r.sandboxesCold());
        out.put("sandboxes_total", r.sandboxesTotal());
        out.put("users", r.users());
        out.put("api_requests", r.apiRequests());
        out.put("api_errors", r.apiErrors());
        out.put("load1", r.load1());
        out.put("memory_total_bytes", r.memoryTotalBytes());
        out.put("memory_available_bytes", r.memoryAvailableBytes());
        return out;
    }
}

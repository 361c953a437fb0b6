package dev.bhatti.server.api;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.sandbox.SandboxService;
import org.eclipse.jetty.util.Fields;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code GET /sandboxes/{id}/files/watch?path=P}: a recursive watch of a guest path, streamed as NDJSON
 * events until the client goes, {@code max_events} were sent, {@code timeout} seconds passed or the path
 * itself went. A sandbox has at most {@link #MAX_PER_SANDBOX} watches at once (a 429 beyond); a watch
 * keeps its sandbox in use (never paused for idleness) while it lasts.
 */
final class FileWatchRoute {

    static final int MAX_PER_SANDBOX = 8;

    private final SandboxService sandboxes;
    private final ConcurrentHashMap<String, AtomicInteger> active = new ConcurrentHashMap<>();

    FileWatchRoute(SandboxService sandboxes) { this.sandboxes = sandboxes; }

    List<Route> routes() { return List.of(Route.keyed("GET", "/sandboxes/{id}/files/watch", this::watch)); }

    private Reply watch(Call c) {
        Fields query = QueryParameters.of(c.request());
        String path = query.getValue("path");
        if (path == null || path.isEmpty()) throw DomainException.invalid("query parameter 'path' is required");
        if (path.indexOf('\0') >= 0 || path.length() > 4096) throw DomainException.invalid("invalid path");
        long maxEvents = positive(query, "max_events", Long.MAX_VALUE);
        long timeoutSeconds = positive(query, "timeout", 0);
        try (var inUse = sandboxes.use(c.user(), c.param("id"))) {
            String sandbox = inUse.sandbox().id();
            AtomicInteger count = active.computeIfAbsent(sandbox, k -> new AtomicInteger());
            if (count.incrementAndGet() > MAX_PER_SANDBOX) {
                count.decrementAndGet();
                throw DomainException.limitReached("sandbox " + inUse.sandbox().name() + " already has " + MAX_PER_SANDBOX
                        + " file watches open; close one first");
            }
            try {
                var sink = new NdjsonWatch(c.response(), c.callback(), maxEvents, timeoutSeconds);
                try {
                    inUse.call(guest -> {
                        guest.watchFiles(path, sink);
                        return null;
                    });
                } catch (DomainException e) {
                    if (!sink.started()) throw e; // nothing sent yet: a plain JSON error (404, 409...)
                    sink.error(e.getMessage());
                }
                sink.finish();
            } finally {
                if (count.decrementAndGet() == 0) active.remove(sandbox, count);
            }
        }
        return Reply.STREAMED;
    }

    private static long positive(Fields query, String name, long absent) {
        String v = query.getValue(name);
        if (v == null || v.isEmpty()) return absent;
        try {
            long n = Long.parseLong(v);
            if (n < 1) throw DomainException.invalid(name + " must be >= 1");
            return n;
        } catch (NumberFormatException e) {
            throw DomainException.invalid(name + " must be a whole number");
        }
    }
}

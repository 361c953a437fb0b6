package dev.bhatti.bench.jmh;

import dev.bhatti.server.api.ApiRoutes;
import dev.bhatti.server.api.Reply;
import dev.bhatti.server.api.Route;
import dev.bhatti.server.error.DomainException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The router's lookup ({@link ApiRoutes#find}) in a table the size of the API's: the first route, one
 * with a parameter, the last, and an unknown path (404).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RoutingBench {
    private final ApiRoutes routes = table();

    private static ApiRoutes table() {
        var table = new ArrayList<Route>();
        table.add(Route.open("GET", "/health", c -> Reply.ok(null)));
        for (String r : List.of("GET /sandboxes", "POST /sandboxes", "GET /sandboxes/{id}", "PATCH /sandboxes/{id}", "DELETE /sandboxes/{id}",
                "POST /sandboxes/{id}/stop", "POST /sandboxes/{id}/start", "POST /sandboxes/{id}/pause", "POST /sandboxes/{id}/resume",
                "POST /sandboxes/{id}/exec", "GET /sandboxes/{id}/exec/ws", "GET /sandboxes/{id}/ws", "GET /sandboxes/{id}/files",
                "PUT /sandboxes/{id}/files", "HEAD /sandboxes/{id}/files", "GET /sandboxes/{id}/sessions",
                "DELETE /sandboxes/{id}/sessions/{session}", "GET /sandboxes/{id}/forward", "POST /sandboxes/{id}/forward",
                "DELETE /sandboxes/{id}/forward/{port}", "POST /sandboxes/{id}/publish", "POST /sandboxes/{id}/checkpoint",
                "GET /snapshots", "GET /snapshots/{name}", "POST /snapshots/{name}/resume", "GET /secrets", "POST /secrets",
                "GET /secrets/{name}", "DELETE /secrets/{name}")) {
            String[] mt = r.split(" ");
            table.add(Route.keyed(mt[0], mt[1], c -> Reply.ok(null)));
        }
        return new ApiRoutes(table);
    }

    @Benchmark public Object health() { return routes.find("GET", "/health"); }

    @Benchmark public Object execRoute() { return routes.find("POST", "/sandboxes/0123456789abcdef/exec"); }

    @Benchmark public Object lastRoute() { return routes.find("DELETE", "/secrets/API_TOKEN"); }

    @Benchmark
    public Object notFound() {
        try {
            return routes.find("GET", "/sandboxes/0123456789abcdef/nope");
        } catch (DomainException e) {
            return e;
        }
    }

    /** Splitting a request path into segments, which the router does before the lookup. */
    @Benchmark public List<String> segments() { return ApiRoutes.segments("/sandboxes/0123456789abcdef/files"); }
}

package dev.bhatti.bench.jmh;

import dev.bhatti.server.api.ApiRoutes;
import dev.bhatti.server.error.DomainException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The router's route table check ({@link ApiRoutes#check}): the first route, a late one, and an unknown path (404).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RoutingBench {
    private final List<String> health = ApiRoutes.segments("/health");
    private final List<String> exec = ApiRoutes.segments("/sandboxes/0123456789abcdef/exec");
    private final List<String> secret = ApiRoutes.segments("/secrets/API_TOKEN");
    private final List<String> unknown = ApiRoutes.segments("/sandboxes/0123456789abcdef/nope");

    @Benchmark public void health() { ApiRoutes.check("GET", health, "/health"); }

    @Benchmark public void execRoute() { ApiRoutes.check("POST", exec, "/sandboxes/x/exec"); }

    @Benchmark public void lastRoute() { ApiRoutes.check("DELETE", secret, "/secrets/x"); }

    @Benchmark
    public Object notFound() {
        try {
            ApiRoutes.check("GET", unknown, "/sandboxes/x/nope");
            return null;
        } catch (DomainException e) {
            return e;
        }
    }

    /** Splitting a request path into segments, which the router does before the check. */
    @Benchmark public List<String> segments() { return ApiRoutes.segments("/sandboxes/0123456789abcdef/files"); }
}

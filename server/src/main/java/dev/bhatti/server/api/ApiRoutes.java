package dev.bhatti.server.api;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.sandbox.Limits;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The API's table of routes, by resource, and the lookup of a request in it: 404 when no route has the
 * path, 405 when none has the method. A test holds the table equal to the OpenAPI document.
 */
public final class ApiRoutes {

    /** A route and the parameters its template took from the path. */
    public record Match(Route route, Map<String, String> params) {}

    private final List<Route> routes;

    public ApiRoutes(List<Route> routes) { this.routes = List.copyOf(routes); }

    public List<Route> routes() { return routes; }

    public Match find(String method, String path) {
        List<String> segments = segments(path);
        boolean pathKnown = false;
        for (Route r : routes) {
            Map<String, String> params = r.match(segments);
            if (params == null) continue;
            pathKnown = true;
            if (r.method().equals(method)) return new Match(r, params);
        }
        if (!pathKnown) throw DomainException.notFound("no such route: " + method + " " + Limits.printable(path));
        throw DomainException.notAllowed("method not allowed");
    }

    public static List<String> segments(String path) {
        var out = new ArrayList<String>();
        for (String s : path.split("/")) if (!s.isEmpty()) out.add(s);
        return out;
    }
}

package dev.bhatti.server.api;

import dev.bhatti.server.error.DomainException;
import java.util.List;
import java.util.Set;

/**
 * Every route of the API, by method and path template. The router answers 404 and 405 from this table,
 * and a test holds it equal to the OpenAPI document ({@code openapi.json}), so neither can drift.
 */
public final class ApiRoutes {

    /** A template's segments are literals or {@code {name}} placeholders. */
    public record Route(String method, String template, List<String> segments) {
        /** Split once: every request is checked against the table (the JMH routing bench showed the cost). */
        public Route(String method, String template) { this(method, template, ApiRoutes.segments(template)); }

        boolean matches(List<String> path) {
            List<String> t = segments;
            if (t.size() != path.size()) return false;
            for (int i = 0; i < t.size(); i++) {
                if (!t.get(i).startsWith("{") && !t.get(i).equals(path.get(i))) return false;
            }
            return true;
        }
    }

    /** Routes that need no API key. */
    public static final Set<String> PUBLIC = Set.of("/health", "/openapi.json");

    public static final List<Route> ROUTES = List.of(
            new Route("GET", "/health"),
            new Route("GET", "/openapi.json"),
            new Route("GET", "/sandboxes"),
            new Route("POST", "/sandboxes"),
            new Route("GET", "/sandboxes/{id}"),
            new Route("PATCH", "/sandboxes/{id}"),
            new Route("DELETE", "/sandboxes/{id}"),
            new Route("POST", "/sandboxes/{id}/stop"),
            new Route("POST", "/sandboxes/{id}/start"),
            new Route("POST", "/sandboxes/{id}/pause"),
            new Route("POST", "/sandboxes/{id}/resume"),
            new Route("POST", "/sandboxes/{id}/exec"),
            new Route("GET", "/sandboxes/{id}/exec/ws"),
            new Route("GET", "/sandboxes/{id}/ws"),
            new Route("GET", "/sandboxes/{id}/files"),
            new Route("PUT", "/sandboxes/{id}/files"),
            new Route("HEAD", "/sandboxes/{id}/files"),
            new Route("GET", "/sandboxes/{id}/sessions"),
            new Route("DELETE", "/sandboxes/{id}/sessions/{session}"),
            new Route("GET", "/sandboxes/{id}/forward"),
            new Route("POST", "/sandboxes/{id}/forward"),
            new Route("DELETE", "/sandboxes/{id}/forward"),
            new Route("DELETE", "/sandboxes/{id}/forward/{port}"),
            new Route("POST", "/sandboxes/{id}/shell-token"),
            new Route("DELETE", "/sandboxes/{id}/shell-token"),
            new Route("GET", "/sandboxes/{id}/publish"),
            new Route("POST", "/sandboxes/{id}/publish"),
            new Route("DELETE", "/sandboxes/{id}/publish/{port}"),
            new Route("POST", "/sandboxes/{id}/checkpoint"),
            new Route("GET", "/snapshots"),
            new Route("GET", "/snapshots/{name}"),
            new Route("DELETE", "/snapshots/{name}"),
            new Route("POST", "/snapshots/{name}/resume"),
            new Route("GET", "/secrets"),
            new Route("POST", "/secrets"),
            new Route("GET", "/secrets/{name}"),
            new Route("DELETE", "/secrets/{name}"));

    private ApiRoutes() {}

    /** Checks that some route takes this path and method: 404 if none has the path, 405 if none the method. */
    public static void check(String method, List<String> path, String printablePath) {
        boolean pathKnown = false;
        for (Route r : ROUTES) {
            if (!r.matches(path)) continue;
            pathKnown = true;
            if (r.method().equals(method)) return;
        }
        if (!pathKnown) throw DomainException.notFound("no such route: " + method + " " + printablePath);
        throw DomainException.notAllowed("method not allowed");
    }

    public static List<String> segments(String path) {
        var out = new java.util.ArrayList<String>();
        for (String s : path.split("/")) if (!s.isEmpty()) out.add(s);
        return out;
    }
}

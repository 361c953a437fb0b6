package dev.bhatti.server.api;

import java.util.List;
import java.util.HashMap;
import java.util.Map;

/**
 * A method and path template bound to its endpoint. {@code keyed} routes need an API key and draw from
 * the user's rate limits; the others ({@code /health}, {@code /openapi.json}) answer anyone.
 */
public record Route(String method, String template, boolean keyed, Endpoint endpoint, List<String> segments) {

    Route(String method, String template, boolean keyed, Endpoint endpoint) {
        this(method, template, keyed, endpoint, ApiRoutes.segments(template)); // split once, not per request
    }

    /** The same route with {@code wrapped} as its endpoint. */
    Route with(Endpoint wrapped) { return new Route(method, template, keyed, wrapped, segments); }

    public static Route keyed(String method, String template, Endpoint endpoint) { return new Route(method, template, true, endpoint); }

    public static Route open(String method, String template, Endpoint endpoint) { return new Route(method, template, false, endpoint); }

    /**
     * The template's parameters taken from {@code path}, or null when the path does not fit it. Every
     * request is looked up in the whole table: nothing is allocated until a route fits.
     */
    Map<String, String> match(List<String> path) {
        if (segments.size() != path.size()) return null;
        for (int i = 0; i < segments.size(); i++) {
            String t = segments.get(i);
            if (t.charAt(0) != '{' && !t.equals(path.get(i))) return null;
        }
        Map<String, String> params = Map.of();
        for (int i = 0; i < segments.size(); i++) {
            String t = segments.get(i);
            if (t.charAt(0) != '{') continue;
            if (params.isEmpty()) params = new HashMap<>(4);
            params.put(t.substring(1, t.length() - 1), path.get(i));
        }
        return params;
    }
}

package dev.bhatti.server.api;

import dev.bhatti.server.task.Tasks;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code /tasks/{id}}: long work the server does for a user (pulls), polled for progress and cancelled. */
record TaskRoutes(Tasks tasks) {

    List<Route> routes() {
        return List.of(
                Route.keyed("GET", "/tasks/{id}", c -> Reply.ok(view(tasks.get(c.user().id(), c.param("id"))))),
                Route.keyed("DELETE", "/tasks/{id}", c -> Reply.ok(view(tasks.cancel(c.user().id(), c.param("id"))))));
    }

    static Map<String, Object> view(Tasks.Task t) {
        var m = new LinkedHashMap<String, Object>();
        m.put("id", t.id());
        m.put("what", t.what());
        m.put("state", t.state().name().toLowerCase(Locale.ROOT));
        m.put("phase", t.phase() == null ? "" : t.phase());
        m.put("started_at", t.started().toString());
        if (t.error() != null && !t.error().isEmpty()) m.put("error", t.error());
        if (t.result() != null && !t.result().isEmpty()) m.put("result", t.result());
        long done = 0;
        long total = 0;
        var parts = new ArrayList<Map<String, Long>>();
        for (long[] p : t.parts()) {
            parts.add(Map.of("done", p[0], "total", p[1]));
            done += p[0];
            total += p[1];
        }
        m.put("bytes_done", done);
        m.put("bytes_total", total);
        m.put("parts", parts);
        return m;
    }
}

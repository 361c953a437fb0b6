package dev.bhatti.cli;

import tools.jackson.databind.JsonNode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code --label KEY=VALUE} flags (the server checks the keys and values). */
final class Labels {
    private Labels() {}

    static Map<String, String> parse(List<String> labels) throws CliException {
        var m = new LinkedHashMap<String, String>();
        for (String l : labels) {
            int eq = l.indexOf('=');
            if (eq <= 0) throw new CliException("--label must be KEY=VALUE, got " + l);
            m.put(l.substring(0, eq), l.substring(eq + 1));
        }
        return m;
    }

    /** A sandbox's labels as {@code k=v,k2=v2}, or "-". */
    static String text(JsonNode sandbox) {
        var parts = new java.util.ArrayList<String>();
        sandbox.path("labels").properties().forEach(e -> parts.add(e.getKey() + "=" + e.getValue().asString()));
        return parts.isEmpty() ? "-" : String.join(",", parts);
    }
}

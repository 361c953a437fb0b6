package dev.bhatti.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One argument of an MCP tool. The same record gives the tool's JSON Schema (what the model reads) and
 * checks what the model sent ({@link McpArgs}), so the two cannot drift apart.
 */
record McpParam(String name, Kind kind, String description, boolean mandatory, Object defaultValue, Long min, Long max,
                List<String> choices, boolean mayBeEmpty) {

    enum Kind {
        STRING("string"), INTEGER("integer"), NUMBER("number"), BOOLEAN("boolean"), STRING_MAP("object of strings");

        final String label;

        Kind(String label) { this.label = label; }
    }

    static McpParam string(String name, String description) { return of(name, Kind.STRING, description); }

    static McpParam integer(String name, String description) { return of(name, Kind.INTEGER, description); }

    static McpParam number(String name, String description) { return of(name, Kind.NUMBER, description); }

    static McpParam bool(String name, String description) { return of(name, Kind.BOOLEAN, description); }

    static McpParam stringMap(String name, String description) { return of(name, Kind.STRING_MAP, description); }

    private static McpParam of(String name, Kind kind, String description) {
        return new McpParam(name, kind, description, false, null, null, null, List.of(), false);
    }

    McpParam required() { return new McpParam(name, kind, description, true, defaultValue, min, max, choices, mayBeEmpty); }

    McpParam byDefault(Object value) { return new McpParam(name, kind, description, mandatory, value, min, max, choices, mayBeEmpty); }

    McpParam range(long min, long max) { return new McpParam(name, kind, description, mandatory, defaultValue, min, max, choices, mayBeEmpty); }

    McpParam atLeast(long min) { return new McpParam(name, kind, description, mandatory, defaultValue, min, null, choices, mayBeEmpty); }

    McpParam oneOf(String... values) {
        return new McpParam(name, kind, description, mandatory, defaultValue, min, max, List.of(values), mayBeEmpty);
    }

    /** A required string that may be "" (a file's content); other required strings (names, paths) may not. */
    McpParam emptyAllowed() { return new McpParam(name, kind, description, mandatory, defaultValue, min, max, choices, true); }

    /** This argument's JSON Schema. */
    Map<String, Object> schema() {
        var s = new LinkedHashMap<String, Object>();
        switch (kind) {
            case STRING_MAP -> {
                s.put("type", "object");
                s.put("additionalProperties", Map.of("type", "string"));
            }
            default -> s.put("type", kind.name().toLowerCase(java.util.Locale.ROOT));
        }
        s.put("description", description);
        if (defaultValue != null) s.put("default", defaultValue);
        if (min != null) s.put("minimum", min);
        if (max != null) s.put("maximum", max);
        if (!choices.isEmpty()) s.put("enum", choices);
        return s;
    }

    /** The input schema of a tool taking {@code params}: an object, nothing else allowed. */
    static Map<String, Object> objectSchema(List<McpParam> params) {
        var properties = new LinkedHashMap<String, Object>();
        for (McpParam p : params) properties.put(p.name(), p.schema());
        var schema = new LinkedHashMap<String, Object>();
        schema.put("type", "object");
        schema.put("properties", properties);
        var required = params.stream().filter(McpParam::mandatory).map(McpParam::name).toList();
        if (!required.isEmpty()) schema.put("required", required);
        schema.put("additionalProperties", false);
        return schema;
    }
}

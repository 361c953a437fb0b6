package dev.bhatti.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tool call's arguments, checked against the tool's {@link McpParam}s: unknown names, missing required
 * ones, wrong types and values out of range are all reported at once, in words a model can act on.
 */
final class McpArgs {
    private final Map<String, McpParam> params;
    private final Map<String, Object> values;

    private McpArgs(Map<String, McpParam> params, Map<String, Object> values) {
        this.params = params;
        this.values = values;
    }

    static McpArgs check(String tool, List<McpParam> declared, Map<String, Object> given) throws McpToolError {
        var params = new LinkedHashMap<String, McpParam>();
        for (McpParam p : declared) params.put(p.name(), p);
        Map<String, Object> values = given == null ? Map.of() : given;
        var problems = new ArrayList<String>();
        for (String name : values.keySet()) {
            if (!params.containsKey(name)) problems.add("unknown argument '" + name + "'");
        }
        for (McpParam p : declared) {
            Object v = values.get(p.name());
            if (v == null) {
                if (p.mandatory()) problems.add("missing required argument '" + p.name() + "' (" + p.kind().label + ": "
                        + p.description().replaceAll("\\.$", "") + ")");
                continue;
            }
            String problem = problem(p, v);
            if (problem != null) problems.add("argument '" + p.name() + "' " + problem);
        }
        if (!problems.isEmpty()) {
            var names = declared.stream().map(p -> p.name() + (p.mandatory() ? " (required)" : "")).toList();
            throw new McpToolError("Invalid arguments for " + tool + ": " + String.join("; ", problems) + ". "
                    + tool + " takes: " + (names.isEmpty() ? "no arguments" : String.join(", ", names)) + ". Fix the arguments and call it again.");
        }
        return new McpArgs(params, values);
    }

    /** Why {@code v} does not fit {@code p}, or null. */
    private static String problem(McpParam p, Object v) {
        return switch (p.kind()) {
            case STRING -> {
                if (!(v instanceof String s)) yield "must be a string, got " + describe(v);
                if (p.mandatory() && !p.mayBeEmpty() && s.isBlank()) yield "must not be empty";
                if (!p.choices().isEmpty() && !p.choices().contains(s)) yield "must be one of " + p.choices() + ", got \"" + s + "\"";
                yield null;
            }
            case INTEGER -> {
                if (!(v instanceof Number n) || !integral(n)) yield "must be an integer, got " + describe(v);
                yield outOfRange(p, n.doubleValue());
            }
            case NUMBER -> {
                if (!(v instanceof Number n)) yield "must be a number, got " + describe(v);
                yield outOfRange(p, n.doubleValue());
            }
            case BOOLEAN -> v instanceof Boolean ? null : "must be true or false, got " + describe(v);
            case STRING_MAP -> {
                if (!(v instanceof Map<?, ?> m)) yield "must be an object of string values like {\"KEY\": \"value\"}, got " + describe(v);
                for (var e : m.entrySet()) {
                    if (!(e.getValue() instanceof String)) yield "must have string values only; '" + e.getKey() + "' is " + describe(e.getValue());
                }
                yield null;
            }
        };
    }

    private static boolean integral(Number n) {
        return switch (n) {
            case Integer _, Long _, Short _, Byte _ -> true;
            case java.math.BigInteger b -> b.bitLength() < 64;
            default -> {
                double d = n.doubleValue();
                yield d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 9.0e15;
            }
        };
    }

    private static String outOfRange(McpParam p, double v) {
        if (p.min() != null && v < p.min() || p.max() != null && v > p.max()) {
            return (p.max() == null ? "must be at least " + p.min() : "must be between " + p.min() + " and " + p.max()) + ", got " + format(v);
        }
        return null;
    }

    private static String format(double v) { return v == Math.rint(v) && Math.abs(v) < 9.0e15 ? Long.toString((long) v) : Double.toString(v); }

    /** A value as the model sent it, said briefly. */
    static String describe(Object v) {
        return switch (v) {
            case null -> "null";
            case String s -> "a string (\"" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "\")";
            case Boolean b -> "a boolean (" + b + ")";
            case Number n -> "a number (" + n + ")";
            case Map<?, ?> _ -> "an object";
            case List<?> _ -> "an array";
            default -> "a " + v.getClass().getSimpleName();
        };
    }

    private Object value(String name) {
        McpParam p = params.get(name);
        if (p == null) throw new IllegalArgumentException("no parameter " + name); // a slip in a tool's own code
        Object v = values.get(name);
        return v != null ? v : p.defaultValue();
    }

    /** A string argument, its default, or null. */
    String string(String name) { return (String) value(name); }

    /** An integer argument, its default, or null. */
    Long integer(String name) {
        Object v = value(name);
        return v == null ? null : ((Number) v).longValue();
    }

    Double number(String name) {
        Object v = value(name);
        return v == null ? null : ((Number) v).doubleValue();
    }

    boolean bool(String name) { return Boolean.TRUE.equals(value(name)); }

    /** Whether the model gave this argument (defaults aside). */
    boolean given(String name) { return values.get(name) != null; }

    @SuppressWarnings("unchecked")
    Map<String, String> stringMap(String name) { return (Map<String, String>) value(name); }
}

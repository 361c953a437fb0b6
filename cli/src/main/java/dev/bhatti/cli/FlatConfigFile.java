package dev.bhatti.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the CLI config file without a YAML library when it is what the daemon and {@code setup} write:
 * {@code key: value} lines of plain or simply quoted strings, blank lines and comments. Anything else
 * (nesting, escapes, values YAML reads as numbers, booleans or null) is left to the YAML parser.
 */
final class FlatConfigFile {
    private FlatConfigFile() {}

    private static final Pattern LINE = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*):(?:[ \\t]+(.*?))?[ \\t]*");
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z][A-Za-z0-9_./:@%+=~?&-]*");
    private static final Set<String> NOT_STRINGS = Set.of("null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE");

    /** The file's keys and string values, or empty if it needs a real YAML parser. */
    static Optional<Map<String, String>> parse(String text) {
        var values = new LinkedHashMap<String, String>();
        for (String line : text.split("\n", -1)) {
            if (line.endsWith("\r")) line = line.substring(0, line.length() - 1);
            if (line.isBlank() || line.startsWith("#")) continue;
            var m = LINE.matcher(line);
            if (!m.matches()) return Optional.empty();
            String value = scalar(m.group(2) == null ? "" : m.group(2));
            if (value == null || values.putIfAbsent(m.group(1), value) != null) return Optional.empty();
        }
        return Optional.of(values);
    }

    /** A value without a comment, or null when it is not a plain string YAML would read the same way. */
    private static String scalar(String raw) {
        int comment = raw.indexOf(" #");
        String v = (comment < 0 ? raw : raw.substring(0, comment)).strip();
        if (v.length() >= 2 && (v.startsWith("'") && v.endsWith("'") || v.startsWith("\"") && v.endsWith("\""))) {
            String inner = v.substring(1, v.length() - 1);
            return inner.indexOf('\'') < 0 && inner.indexOf('"') < 0 && inner.indexOf('\\') < 0 && inner.indexOf('#') < 0 ? inner : null;
        }
        return PLAIN.matcher(v).matches() && !NOT_STRINGS.contains(v) && !v.contains(": ") ? v : null;
    }
}

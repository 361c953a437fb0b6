package dev.bhatti.server.sandbox;

import dev.bhatti.server.error.DomainException;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Sandbox labels, shaped like Kubernetes labels so they pass to other tools unchanged: a key is an optional
 * DNS-style prefix (at most 253 characters) and '/', then a name of at most 63 letters, digits, '.', '_' and
 * '-' that starts and ends with a letter or digit; a value is empty or such a name. A sandbox has at most 64.
 */
public final class Labels {
    public static final int MAX_LABELS = 64;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?");
    private static final Pattern PREFIX = Pattern.compile("[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?");

    private Labels() {}

    public static String key(String key) {
        if (key == null || key.isEmpty()) throw DomainException.invalid("a label key must not be empty");
        int slash = key.lastIndexOf('/');
        String prefix = slash < 0 ? null : key.substring(0, slash);
        String name = key.substring(slash + 1);
        if ((prefix != null && !PREFIX.matcher(prefix).matches()) || !NAME.matcher(name).matches()) {
            throw DomainException.invalid("invalid label key '" + Limits.printable(key) + "': a name of at most 63 letters, digits,"
                    + " '.', '_' and '-' that starts and ends with a letter or digit, optionally after a prefix like example.com/ (lower case, at most 253)");
        }
        return key;
    }

    public static String value(String key, String value) {
        if (value == null) throw DomainException.invalid("label " + key + " has no value");
        if (!value.isEmpty() && !NAME.matcher(value).matches()) {
            throw DomainException.invalid("invalid value for label " + key + " '" + Limits.printable(value) + "': empty, or at most 63 letters, digits,"
                    + " '.', '_' and '-' starting and ending with a letter or digit");
        }
        return value;
    }

    /** Labels to set, each checked; null is none. */
    public static Map<String, String> of(Map<String, String> labels) {
        var checked = new LinkedHashMap<String, String>();
        if (labels == null) return checked;
        if (labels.size() > MAX_LABELS) throw DomainException.invalid("at most " + MAX_LABELS + " labels, got " + labels.size());
        labels.forEach((k, v) -> checked.put(key(k), value(k, v)));
        return checked;
    }

    /** Changes to a sandbox's labels: a null value removes the key; the keys are checked, as are the values set. */
    public static Map<String, String> changes(Map<String, String> changes) {
        var checked = new LinkedHashMap<String, String>();
        changes.forEach((k, v) -> checked.put(key(k), v == null ? null : value(k, v)));
        return checked;
    }

    /** A selector from the query: {@code key=value}. */
    public static Map.Entry<String, String> selector(String selector) {
        int eq = selector.indexOf('=');
        if (eq < 0) throw DomainException.invalid("label selector '" + Limits.printable(selector) + "' must be key=value");
        String key = key(selector.substring(0, eq));
        return Map.entry(key, value(key, selector.substring(eq + 1)));
    }
}

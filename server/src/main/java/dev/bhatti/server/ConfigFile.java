package dev.bhatti.server;

import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One YAML config file, with the line each setting is on, so that a bad value is reported as
 * "{@code /etc/bhatti/config.yaml line 7: engine.jail must be true or false}".
 */
record ConfigFile(Path path, ObjectNode tree, Map<String, Integer> lines) {

    private static final YAMLMapper YAML = new YAMLMapper();
    private static final Pattern LEADING_KEY = Pattern.compile("^([a-z_]+(?:\\.[a-z_]+)*)");

    /** An empty layer (no file). */
    static ConfigFile none(Path path) { return new ConfigFile(path, JsonNodeFactory.instance.objectNode(), Map.of()); }

    /** Reads {@code path}; a file that cannot be read or is not a YAML mapping is refused, naming the file and line. */
    static ConfigFile read(Path path) {
        String text;
        try {
            text = Files.readString(path);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(path + ": no such file");
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException(path + ": cannot be read (permission denied)");
        } catch (IOException e) {
            throw new IllegalArgumentException(path + ": cannot be read (" + e.getMessage() + ")");
        }
        JsonNode root;
        try {
            root = YAML.readTree(text);
        } catch (JacksonException e) {
            var where = e.getLocation();
            throw new IllegalArgumentException(path + (where == null || where.getLineNr() < 1 ? "" : " line " + where.getLineNr())
                    + ": not valid YAML: " + e.getOriginalMessage());
        }
        if (root == null || root.isNull() || root.isMissingNode()) return none(path);
        if (!(root instanceof ObjectNode object)) {
            throw new IllegalArgumentException(path + " line 1: the file must be a mapping of settings (key: value)");
        }
        return new ConfigFile(path, object, lineIndex(text));
    }

    /** The dotted path of every key ({@code engine.jail}) and the line it is on; list items add no segment. */
    private static Map<String, Integer> lineIndex(String text) {
        var lines = new HashMap<String, Integer>();
        try (JsonParser p = YAML.createParser(text)) {
            Deque<String> path = new ArrayDeque<>();
            Deque<Boolean> objectScopes = new ArrayDeque<>();
            String pending = null;
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                switch (t) {
                    case PROPERTY_NAME -> {
                        pending = p.currentName();
                        String key = path.isEmpty() ? pending : String.join(".", path.reversed()) + "." + pending;
                        lines.putIfAbsent(key, p.currentTokenLocation().getLineNr());
                    }
                    case START_OBJECT -> {
                        boolean named = pending != null;
                        if (named) path.push(pending);
                        objectScopes.push(named);
                        pending = null;
                    }
                    case END_OBJECT -> {
                        if (!objectScopes.isEmpty() && objectScopes.pop() && !path.isEmpty()) path.pop();
                    }
                    default -> pending = null; // a scalar or a list ends the pending key (a list's objects stay unnamed)
                }
            }
        } catch (JacksonException e) {
            // already parsed once: cannot happen; without lines the message just names the file
        }
        return lines;
    }

    /** The line of {@code key} or of its nearest parent in this file. */
    Optional<Integer> lineOf(String key) {
        for (String k = key; !k.isEmpty(); k = k.contains(".") ? k.substring(0, k.lastIndexOf('.')) : "") {
            Integer line = lines.get(k);
            if (line != null) return Optional.of(line);
        }
        return Optional.empty();
    }

    /** The dotted setting a validation message starts with ({@code engine.jail must be...}), if any. */
    static Optional<String> keyOf(String message) {
        if (message == null) return Optional.empty();
        var m = LEADING_KEY.matcher(message);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /** {@code base} with {@code overlay} on top: mappings merge key by key, anything else is replaced. */
    static ObjectNode merge(ObjectNode base, ObjectNode overlay) {
        ObjectNode out = base.deepCopy();
        for (var e : overlay.properties()) {
            JsonNode mine = out.get(e.getKey());
            if (mine instanceof ObjectNode a && e.getValue() instanceof ObjectNode b) out.set(e.getKey(), merge(a, b));
            else out.set(e.getKey(), e.getValue().deepCopy());
        }
        return out;
    }
}

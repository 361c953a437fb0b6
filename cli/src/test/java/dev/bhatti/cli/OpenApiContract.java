package dev.bhatti.cli;

import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The daemon's OpenAPI document as a checker of real traffic: finds the operation a request hit, checks
 * that the answer's status and content type are documented for it, and validates JSON bodies (and each
 * NDJSON line, and WebSocket control messages) against the documented schemas, with JSON Schema 2020-12
 * as OpenAPI 3.1 uses it. Strict where the document is loose: an object schema that lists properties and
 * says nothing of others is closed, so a field the daemon sends but the document does not name fails.
 * Records which operations answered what, so a test can insist every route was walked.
 */
final class OpenApiContract {
    private static final String BASE = "https://bhatti.invalid/openapi.json";

    record Operation(String method, String template, Pattern pattern, int literalSegments, JsonNode node) {
        String key() { return method + " " + template; }
    }

    private final JsonNode doc;
    private final List<Operation> operations = new ArrayList<>();
    private final SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    private final Map<String, Schema> schemas = new ConcurrentHashMap<>();
    private final Map<String, Set<Integer>> answered = new ConcurrentHashMap<>();

    OpenApiContract(JsonNode document) {
        this.doc = closeObjects(document.deepCopy());
        for (var path : doc.path("paths").properties()) {
            String template = path.getKey();
            String regex = "^" + Pattern.quote(template).replaceAll("\\{[^}]+}", "\\\\E[^/]+\\\\Q") + "$";
            int literal = (int) template.chars().filter(c -> c == '/').count() - (int) template.chars().filter(c -> c == '{').count();
            for (var op : path.getValue().properties()) {
                if (op.getKey().equals("parameters")) continue;
                operations.add(new Operation(op.getKey().toUpperCase(Locale.ROOT), template, Pattern.compile(regex), literal, op.getValue()));
            }
        }
    }

    List<Operation> operations() { return List.copyOf(operations); }

    /** The operation a method and path (without query) hit: the template with the most literal segments wins. */
    Optional<Operation> find(String method, String path) {
        return operations.stream().filter(o -> o.method().equals(method) && o.pattern().matcher(path).matches())
                .max(Comparator.comparingInt(Operation::literalSegments));
    }

    /** Everything wrong with one exchange; empty when it keeps the contract. */
    List<String> check(String method, String path, JsonNode requestBody, int status, String contentType, String body) {
        var problems = new ArrayList<String>();
        var op = find(method, path).orElse(null);
        if (op == null) return List.of("no documented operation for " + method + " " + path);
        answered.computeIfAbsent(op.key(), k -> ConcurrentHashMap.newKeySet()).add(status);
        String where = op.key() + " -> " + status;
        if (requestBody != null && status / 100 == 2) {
            String pointer = "/paths/" + escape(op.template()) + "/" + method.toLowerCase(Locale.ROOT) + "/requestBody/content/application~1json/schema";
            if (doc.at(pointer).isMissingNode()) problems.add(where + ": a JSON body was accepted but none is documented");
            else problems.addAll(validate(pointer, requestBody, where + " request"));
        }
        var responses = op.node().path("responses");
        String code = String.valueOf(status);
        String documented = responses.has(code) ? code : responses.has(status / 100 + "XX") ? status / 100 + "XX" : responses.has("default") ? "default" : null;
        if (documented == null) {
            problems.add(where + ": status not documented (documented: " + names(responses) + ")");
            return problems;
        }
        JsonNode response = resolve(responses.path(documented));
        JsonNode content = response.path("content");
        String mediaType = contentType == null ? "" : contentType.split(";")[0].strip().toLowerCase(Locale.ROOT);
        if (content.isMissingNode() || content.isEmpty()) {
            if (body != null && !body.isEmpty() && status != 101) problems.add(where + ": a body (" + mediaType + ") where none is documented");
            return problems;
        }
        if (!content.has(mediaType)) {
            problems.add(where + ": content type '" + mediaType + "' not documented (documented: " + names(content) + ")");
            return problems;
        }
        String pointer = pointerOf(op, documented, responses.path(documented)) + "/content/" + escape(mediaType) + "/schema";
        switch (mediaType) {
            case "application/json" -> problems.addAll(validate(pointer, ApiClient.JSON.readTree(body), where));
            case "application/x-ndjson" -> {
                for (String line : body.split("\n")) {
                    if (!line.isBlank()) problems.addAll(validate(pointer, ApiClient.JSON.readTree(line), where + " line"));
                }
            }
            default -> { }
        }
        return problems;
    }

    /** Validates a WebSocket control message against the schema the operation names in {@code x-websocket}. */
    List<String> checkSocketMessage(String template, String direction, JsonNode message) {
        String pointer = "/paths/" + escape(template) + "/get/x-websocket/" + direction;
        if (doc.at(pointer).isMissingNode()) return List.of(template + ": no x-websocket/" + direction + " schema");
        answered.computeIfAbsent("GET " + template, k -> ConcurrentHashMap.newKeySet()).add(101);
        return validate(pointer, message, "GET " + template + " " + direction);
    }

    /** Operation -> the statuses it answered with, for the operations that answered at all. */
    Map<String, Set<Integer>> answered() {
        var out = new TreeMap<String, Set<Integer>>();
        answered.forEach((k, v) -> out.put(k, new TreeSet<>(v)));
        return out;
    }

    private List<String> validate(String pointer, JsonNode instance, String where) {
        Schema schema = schemas.computeIfAbsent(pointer, p -> {
            ObjectNode root = (ObjectNode) doc.deepCopy();
            root.put("$schema", "https://json-schema.org/draft/2020-12/schema");
            root.put("$ref", "#" + p);
            return registry.getSchema(SchemaLocation.of(BASE), root);
        });
        return schema.validate(instance).stream().map(e -> where + ": " + e + " in " + clip(instance.toString())).toList();
    }

    private JsonNode resolve(JsonNode maybeRef) {
        String ref = maybeRef.path("$ref").asString("");
        return ref.startsWith("#") ? doc.at(ref.substring(1)) : maybeRef;
    }

    private String pointerOf(Operation op, String code, JsonNode response) {
        String ref = response.path("$ref").asString("");
        if (ref.startsWith("#")) return ref.substring(1);
        return "/paths/" + escape(op.template()) + "/" + op.method().toLowerCase(Locale.ROOT) + "/responses/" + code;
    }

    /** Closes every object schema that lists properties and is silent about others (see the class comment). */
    private static JsonNode closeObjects(JsonNode node) {
        if (node instanceof ObjectNode o) {
            if (o.has("properties") && o.path("properties").isObject() && !o.has("additionalProperties")) o.put("additionalProperties", false);
            for (var e : o.properties()) closeObjects(e.getValue());
        } else if (node.isArray()) {
            for (JsonNode n : node) closeObjects(n);
        }
        return node;
    }

    private static String escape(String s) { return s.replace("~", "~0").replace("/", "~1"); }

    private static String names(JsonNode n) { return String.join(", ", n.propertyNames()); }

    private static String clip(String s) { return s.length() > 300 ? s.substring(0, 300) + "..." : s; }
}

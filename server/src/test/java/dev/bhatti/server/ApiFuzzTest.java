package dev.bhatti.server;

import dev.bhatti.protocol.Fuzz;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real daemon (as in {@link ApiValidationTest}: no images, so nothing boots) fed mutated requests
 * over raw sockets: JSON bodies of every route with wrong types, huge numbers, deep nesting, unknown
 * and duplicate fields, invalid UTF-8 and byte-level damage; odd ids, query strings and headers. No
 * answer may be a 5xx, no request may hang, and a well-formed HTTP request is always answered with
 * JSON. Malformed request lines and URIs are Jetty's to refuse: for those only "no 5xx" is checked here
 * (their HTML answers are being fixed separately), and what came back is printed.
 *
 * <p>Seeded like the protocol fuzzers (docs/fuzzing.md): {@code -Dfuzz.seed=N}, {@code -Dfuzz.cases=N}, {@code -Dfuzz.seconds=N}.
 */
class ApiFuzzTest {

    @TempDir static Path dataDir;
    static Daemon daemon;
    static String key;
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    @BeforeAll
    static void start() throws Exception {
        // no rate limits: thousands of requests in a row are the point here
        Files.writeString(dataDir.resolve("config.yaml"), "rate_limits:\n  create: {burst: 0, per_minute: 0}\n"
                + "  exec: {burst: 0, per_minute: 0}\n  read: {burst: 0, per_minute: 0}\n  auth_failure: {burst: 0, per_minute: 0}\n");
        daemon = new Daemon(ServerConfig.load(dataDir, "127.0.0.1:0"));
        daemon.start(dataDir.resolve("cli.yaml"), null);
        key = Files.readString(dataDir.resolve("admin-api-key")).strip();
    }

    @AfterAll
    static void stop() { if (daemon != null) daemon.close(); }

    record Answer(int status, String contentType, String body) {}

    /** One request on its own connection; the whole answer, or a failure if none comes in time. */
    static Answer send(byte[] request, String where) throws IOException {
        try (var socket = new Socket("127.0.0.1", daemon.port())) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            try {
                out.write(request);
                out.flush();
                socket.shutdownOutput();
            } catch (IOException e) {
                // the server refused early and closed; its answer is still there to read
            }
            var bytes = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            try {
                in.transferTo(bytes);
            } catch (SocketTimeoutException e) {
                throw new AssertionError(where + ": no complete answer in 30 s to " + printable(request), e);
            } catch (IOException e) {
                // reset after the answer: keep what came
            }
            String text = bytes.toString(StandardCharsets.ISO_8859_1);
            if (text.isEmpty()) return new Answer(0, "", ""); // closed without a word: Jetty's way with some garbage
            assertThat(text).as("%s: answer to %s", where, printable(request)).startsWith("HTTP/1.1 ");
            int status = Integer.parseInt(text.substring(9, 12));
            int end = text.indexOf("\r\n\r\n");
            String headers = end < 0 ? text : text.substring(0, end);
            String type = "";
            for (String line : headers.split("\r\n")) {
                if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-type:")) type = line.substring(13).strip();
            }
            return new Answer(status, type, end < 0 ? "" : text.substring(end + 4));
        }
    }

    static byte[] http(String method, String target, Map<String, String> headers, byte[] body) {
        var b = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        headers.forEach((k, v) -> b.append(k).append(": ").append(v).append("\r\n"));
        if (body != null && !headers.containsKey("Content-Length") && !headers.containsKey("Transfer-Encoding")) {
            b.append("Content-Length: ").append(body.length).append("\r\n");
        }
        b.append("\r\n");
        byte[] head = b.toString().getBytes(StandardCharsets.UTF_8);
        if (body == null) return head;
        byte[] all = new byte[head.length + body.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(body, 0, all, head.length, body.length);
        return all;
    }

    // ---- JSON bodies ---------------------------------------------------------------------------------

    /** Valid bodies for each route that reads one: the seeds that get mutated. */
    static List<Route> routes() {
        return List.of(
                new Route("POST", "/sandboxes", "{\"name\":\"fz\",\"cpus\":1,\"memory_mb\":512,\"image\":\"nope\",\"env\":{\"A\":\"1\"},"
                        + "\"files\":[{\"guest_path\":\"/etc/x\",\"content\":\"aGk=\",\"mode\":\"0644\"}],\"init\":\"true\",\"keep_hot\":false,"
                        + "\"secrets\":[\"S\"],\"egress\":\"all\",\"allow_hosts\":[\"example.com\"]}"),
                new Route("POST", "/sandboxes/{id}/exec", "{\"cmd\":[\"sh\",\"-c\",\"true\"],\"timeout_sec\":10,\"env\":{\"A\":\"b\"},"
                        + "\"cwd\":\"/\",\"user\":\"root\",\"stdin\":\"x\",\"detach\":false}"),
                new Route("POST", "/sandboxes/{id}/exec", "{\"cmd\":[\"sleep\",\"9\"],\"detach\":true,\"output_file\":\"/tmp/o.log\"}"),
                new Route("PATCH", "/sandboxes/{id}", "{\"keep_hot\":true}"),
                new Route("POST", "/sandboxes/{id}/start", "{\"force\":true}"),
                new Route("POST", "/sandboxes/{id}/checkpoint", "{\"name\":\"snap\"}"),
                new Route("POST", "/snapshots/{id}/resume", "{\"name\":\"clone\"}"),
                new Route("POST", "/sandboxes/{id}/forward", "{\"guest_port\":8080,\"host_port\":0}"),
                new Route("POST", "/sandboxes/{id}/publish", "{\"port\":8080,\"alias\":\"web\"}"),
                new Route("POST", "/secrets", "{\"name\":\"FZ_SECRET\",\"value\":\"v\"}"),
                new Route("PUT", "/sandboxes/{id}/files?path=/tmp/x&mode=0644&user=root", "hello"),
                new Route("GET", "/sandboxes/{id}/files?path=/etc/hosts&offset=1&limit=2&max_bytes=10", null),
                new Route("GET", "/sandboxes/{id}/files?path=/&ls=true", null),
                new Route("HEAD", "/sandboxes/{id}/files?path=/etc/hosts", null),
                new Route("DELETE", "/sandboxes/{id}/sessions/s1?signal=15", null),
                new Route("DELETE", "/sandboxes/{id}/forward/8080", null),
                new Route("DELETE", "/sandboxes/{id}/publish/8080", null),
                new Route("GET", "/sandboxes/{id}", null),
                new Route("GET", "/secrets/{id}", null),
                new Route("DELETE", "/snapshots/{id}", null));
    }

    record Route(String method, String template, String body) {}

    private static final String[] WEIRD = {"", "0", "-1", "9999999999999999999999", "1e400", "-0", "1.5", "true", "null", "\"\"",
            "\"x\"", "[]", "{}", "\"\\u0000\"", "\"\\ud800\"", "\"" + "x".repeat(5000) + "\"", "0x10", "NaN", "Infinity", "1E-400",
            "\"512\"", "\"true\"", "[null]", "{\"\":null}", "\"../../etc/passwd\"", "\"\\n\\r\\t\"", "\"é\"", "123456789012"};

    static JsonNode weird(Random r) {
        try {
            return JSON.readTree(WEIRD[1 + r.nextInt(WEIRD.length - 1)]);
        } catch (RuntimeException e) {
            return NODES.stringNode(WEIRD[r.nextInt(WEIRD.length)]); // not JSON by itself (NaN, 0x10): a string then
        }
    }

    /** Structure-aware damage: a field's value replaced, removed, duplicated, wrapped, or a field added. */
    static JsonNode mutateTree(Random r, JsonNode node, int depth) {
        if (node instanceof ObjectNode o && o.size() > 0 && r.nextInt(3) > 0) {
            var names = new ArrayList<String>(o.propertyNames());
            String name = names.get(r.nextInt(names.size()));
            switch (r.nextInt(6)) {
                case 0 -> o.remove(name);
                case 1 -> o.set(name, weird(r));
                case 2 -> o.set(name, mutateTree(r, o.get(name), depth + 1));
                case 3 -> o.set(name + (r.nextBoolean() ? "_x" : ""), weird(r));
                case 4 -> o.set(name, NODES.arrayNode().add(o.get(name)));
                default -> o.set(name.toUpperCase(java.util.Locale.ROOT), o.get(name));
            }
            return o;
        }
        if (node instanceof ArrayNode a && a.size() > 0 && r.nextBoolean()) {
            int i = r.nextInt(a.size());
            if (r.nextBoolean()) a.set(i, weird(r));
            else a.add(mutateTree(r, a.get(i), depth + 1));
            return a;
        }
        return r.nextInt(4) == 0 ? node : weird(r);
    }

    static byte[] body(Random r, Route route) {
        String seed = route.body();
        if (seed == null || !seed.startsWith("{")) {
            return seed == null ? (r.nextInt(4) == 0 ? randomBytes(r, r.nextInt(64)) : null) : seed.getBytes(StandardCharsets.UTF_8);
        }
        return switch (r.nextInt(8)) {
            case 0 -> nested(r); // deep nesting
            case 1 -> damage(r, seed.getBytes(StandardCharsets.UTF_8)); // byte-level: invalid UTF-8, cuts, flips
            case 2 -> duplicateKey(seed).getBytes(StandardCharsets.UTF_8);
            default -> {
                JsonNode tree = JSON.readTree(seed);
                for (int i = 1 + r.nextInt(3); i > 0; i--) tree = mutateTree(r, tree, 0);
                yield JSON.writeValueAsBytes(tree);
            }
        };
    }

    static byte[] nested(Random r) {
        int depth = new int[]{100, 999, 1001, 5000, 100_000}[r.nextInt(5)];
        String open = r.nextBoolean() ? "[" : "{\"a\":";
        String close = open.equals("[") ? "]" : "}";
        var sb = new StringBuilder("{\"name\":");
        sb.append(open.repeat(depth)).append("1").append(close.repeat(r.nextInt(4) == 0 ? depth / 2 : depth)).append('}');
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    static String duplicateKey(String json) {
        int comma = json.indexOf(',');
        return comma < 0 ? json : json.substring(0, comma) + "," + json.substring(1, comma) + json.substring(comma);
    }

    static byte[] damage(Random r, byte[] b) {
        byte[] c = b.clone();
        for (int k = 1 + r.nextInt(3); k > 0; k--) {
            switch (r.nextInt(4)) {
                case 0 -> c[r.nextInt(c.length)] = (byte) (0x80 + r.nextInt(0x80)); // a lone non-ASCII byte
                case 1 -> c = java.util.Arrays.copyOf(c, r.nextInt(c.length)); // cut
                case 2 -> c[r.nextInt(c.length)] ^= (byte) (1 << r.nextInt(8));
                default -> c[r.nextInt(c.length)] = (byte) r.nextInt(32); // a control character
            }
            if (c.length == 0) break;
        }
        return c;
    }

    static byte[] randomBytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    private static final String[] IDS = {"nope", "%00", "%2e%2e", "..", "x%2Fy", "%ff%fe", "%C3%A9", "a b", "\u00e9", "x".repeat(300),
            "sb_0123456789abcdef", "%", "%zz", ";x", "x?y", "*", "-", "0", "%20", "%0d%0aX-Injected:%201"};

    static String id(Random r) {
        return r.nextInt(3) == 0 ? "fz" + r.nextInt(100) : IDS[r.nextInt(IDS.length)];
    }

    static String query(Random r, String template) {
        int q = template.indexOf('?');
        if (q < 0 || r.nextBoolean()) return template;
        String[] pairs = template.substring(q + 1).split("&");
        var out = new ArrayList<String>();
        for (String p : pairs) {
            int eq = p.indexOf('=');
            if (eq < 0) { out.add(p); continue; }
            String name = p.substring(0, eq);
            String value = switch (r.nextInt(8)) {
                case 0 -> "";
                case 1 -> "-1";
                case 2 -> "99999999999999999999";
                case 3 -> "%00";
                case 4 -> "%ff";
                case 5 -> "%zz";
                case 6 -> "x".repeat(5000);
                default -> p.substring(eq + 1);
            };
            if (r.nextInt(6) > 0) out.add(name + "=" + value);
            if (r.nextInt(8) == 0) out.add(name + "=" + value); // twice
        }
        if (r.nextInt(5) == 0) out.add("%=%");
        return template.substring(0, q + 1) + String.join("&", out);
    }

    /** Findings that are not failures here: what kind, and one example each. */
    private final Map<String, String> noted = new TreeMap<>();

    @Test
    void malformedJsonBodiesGet4xxJsonNever5xx() throws Exception {
        var fuzz = Fuzz.start("api.bodies", 1500);
        var r = new Random(fuzz.seed);
        var statuses = new TreeMap<Integer, Integer>();
        int jettyPages = 0;
        List<Route> routes = routes();
        while (fuzz.more()) {
            Route route = routes.get(r.nextInt(routes.size()));
            String target = query(r, route.template().replace("{id}", r.nextInt(4) == 0 ? id(r) : "fz" + r.nextInt(3)));
            byte[] body = body(r, route);
            var headers = new java.util.LinkedHashMap<String, String>();
            headers.put("Authorization", r.nextInt(30) == 0 ? "Bearer bht_" + "0".repeat(64) : "Bearer " + key);
            if (body != null) headers.put("Content-Type", r.nextInt(10) == 0 ? "text/plain" : "application/json");
            if (r.nextInt(10) == 0) headers.put("Accept", "application/x-ndjson");
            byte[] request = http(route.method(), target, headers, body);
            Answer a = send(request, fuzz.where());
            statuses.merge(a.status(), 1, Integer::sum);
            String what = fuzz.where() + ": " + printable(request) + " -> " + a;
            assertThat(a.status()).as(what).isBetween(200, 499);
            if (a.status() != 204 && !route.method().equals("HEAD")) {
                if (!a.contentType().startsWith("application/json")) {
                    // Jetty's own page for a URI it refuses before the API sees it (%00, %zz, raw UTF-8, too long):
                    // the known "bad URIs get HTML", fixed elsewhere. Anything else not JSON is a failure.
                    // (with an Accept it cannot serve HTML to, Jetty's page is empty and has no type)
                    boolean jetty = a.body().contains("Powered by Jetty") || a.body().isEmpty() && a.contentType().isEmpty();
                    if (!jetty) throw new AssertionError("not JSON: " + what);
                    noted.putIfAbsent("Jetty error page (bad URI, fixed elsewhere): " + a.status() + " " + a.contentType(), printable(request));
                    jettyPages++;
                } else {
                    assertThat(a.body()).as(what).matches("(?s)[{\\[].*");
                    if (a.body().matches("(?s).*(java\\.|tools\\.jackson|com\\.fasterxml|Exception|`[a-z]+\\.).*")) {
                        noted.putIfAbsent("error names a Java/Jackson type (fixed elsewhere)", a.body().substring(0, Math.min(300, a.body().length())));
                    }
                }
            }
        }
        System.out.println("fuzz api.bodies: statuses " + statuses + ", Jetty HTML pages " + jettyPages);
        noted.forEach((k, v) -> System.out.println("fuzz api.bodies: noted " + k + ": " + v));
        assertThat(send(http("GET", "/health", Map.of(), null), "health after").status()).isEqualTo(200);
        assertThat(send(http("GET", "/sandboxes", Map.of("Authorization", "Bearer " + key), null), "list after").body())
                .as("nothing was created").isEqualTo("[]");
    }

    /** Found by the fuzzer: Jetty's "400: Bad query" escaped the files and sessions routes as a 500. */
    @Test
    void aQueryStringThatDoesNotDecodeIs400() throws Exception {
        for (String target : new String[]{"/sandboxes/x/files?path=%zz", "/sandboxes/x/files?path=%ff",
                "/sandboxes/x/sessions/s1?signal=%zz"}) {
            String method = target.contains("/sessions/") ? "DELETE" : "GET";
            Answer a = send(http(method, target, Map.of("Authorization", "Bearer " + key), null), target);
            assertThat(a.status()).as(target + " -> " + a).isEqualTo(400);
            assertThat(a.body()).as(target).contains("the query string is not valid");
        }
    }

    /** Found by the fuzzer: a null inside a create's list answered 500 (List.copyOf in the service). */
    @Test
    void nullsInsideListsAndMapsAre400() throws Exception {
        for (String body : new String[]{"{\"secrets\":[null]}", "{\"allow_hosts\":[null]}", "{\"files\":[null]}",
                "{\"env\":{\"A\":null}}", "{\"files\":[{\"guest_path\":null,\"content\":null}]}"}) {
            Answer a = send(http("POST", "/sandboxes", Map.of("Authorization", "Bearer " + key), body.getBytes(StandardCharsets.UTF_8)), body);
            assertThat(a.status()).as(body + " -> " + a).isEqualTo(400);
        }
    }

    /** Found by the fuzzer: a body cut short (then the client half-closes) answered 500. */
    @Test
    void aBodyThatEndsEarlyIs400() throws Exception {
        var auth = Map.of("Authorization", "Bearer " + key);
        for (byte[] request : List.of(
                http("POST", "/sandboxes/x/exec", Map.of("Authorization", "Bearer " + key, "Transfer-Encoding", "chunked"), new byte[0]),
                http("POST", "/sandboxes", Map.of("Authorization", "Bearer " + key, "Content-Length", "100"), "{\"name\":".getBytes(StandardCharsets.US_ASCII)),
                http("POST", "/secrets", Map.of("Authorization", "Bearer " + key, "Transfer-Encoding", "chunked"), "5\r\n{\"na".getBytes(StandardCharsets.US_ASCII)))) {
            Answer a = send(request, "early end");
            assertThat(a.status()).as(printable(request) + " -> " + a).isEqualTo(400);
            assertThat(a.body()).as(printable(request)).contains("ended early");
        }
        assertThat(send(http("GET", "/sandboxes", auth, null), "list").body()).isEqualTo("[]");
    }

    private static final String[] METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT", "BREW", "get", ""};
    private static final String[] TARGETS = {"/", "//sandboxes", "/sandboxes/", "/sandboxes//exec", "/sandboxes/%00/exec",
            "/sandboxes/..%2F..%2Fetc", "/sandboxes/%ff", "/%", "/sandboxes?%", "*", "http://evil/sandboxes", "/sandboxes/\u00e9",
            "/sandboxes/x/files?path=%ff", "/sandboxes/x/files?path=/a&offset=-1", "/sandboxes/x/files?path=/a&max_bytes=1e9",
            "/sandboxes/x/files?path=/a&mode=99999", "/sandboxes/x/files?path=/a&mode=4755", "/sandboxes/x/files?path=" + "a".repeat(5000),
            "/shell/", "/shell/%00", "/sandboxes/x/sessions/%zz", "/sandboxes/x/forward/99999999999", "/sandboxes/x/publish/-1",
            "/openapi.json?x=%zz", "/health;jsessionid=x", "/sandboxes/x/../../health", "/" + "x/".repeat(2000), "/\t", "/a b"};
    private static final String[] HEADERS = {"Content-Length: -1", "Content-Length: 99999999999999999999", "Content-Length: 1\r\nContent-Length: 2",
            "Transfer-Encoding: chunked", "Transfer-Encoding: gzip", "Authorization: Bearer", "Authorization: Bearer \u00e9\u00e9",
            "Authorization: Basic eDp5", "Authorization: " + "x".repeat(9000), "Content-Type: application/json; charset=latin1",
            "Expect: 100-continue", "Host: \u0000", "X-\u00e9: 1", ": empty name", "Bad Header", "Accept: application/x-ndjson",
            "Connection: upgrade\r\nUpgrade: websocket", "Content-Encoding: gzip"};

    @Test
    void badRequestLinesPathsQueriesAndHeadersNever5xx() throws Exception {
        var fuzz = Fuzz.start("api.http", 800);
        var r = new Random(fuzz.seed);
        var statuses = new TreeMap<Integer, Integer>();
        while (fuzz.more()) {
            var b = new ByteArrayOutputStream();
            String method = METHODS[r.nextInt(METHODS.length)];
            String target = r.nextInt(3) == 0 ? TARGETS[r.nextInt(TARGETS.length)] : "/sandboxes/" + id(r) + List.of("", "/exec", "/files?path=/x", "/stop", "/sessions", "/forward").get(r.nextInt(6));
            String version = r.nextInt(15) == 0 ? List.of("HTTP/1.0", "HTTP/2.0", "HTTP/9", "", "http/1.1").get(r.nextInt(5)) : "HTTP/1.1";
            b.writeBytes((method + " " + target + " " + version + "\r\nHost: 127.0.0.1\r\nConnection: close\r\n").getBytes(StandardCharsets.UTF_8));
            if (r.nextInt(4) > 0) b.writeBytes(("Authorization: Bearer " + key + "\r\n").getBytes(StandardCharsets.US_ASCII));
            for (int i = r.nextInt(3); i > 0; i--) b.writeBytes((HEADERS[r.nextInt(HEADERS.length)] + "\r\n").getBytes(StandardCharsets.UTF_8));
            byte[] body = r.nextBoolean() ? JSON.writeValueAsBytes(mutateTree(r, JSON.readTree("{\"cmd\":[\"true\"]}"), 0)) : new byte[0];
            if (body.length > 0 && r.nextBoolean()) b.writeBytes(("Content-Length: " + body.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            b.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
            b.writeBytes(body);
            byte[] request = b.toByteArray();
            if (r.nextInt(6) == 0) request = damage(r, request); // anywhere, the request line included
            if (request.length == 0) continue;
            Answer a = send(request, fuzz.where());
            statuses.merge(a.status(), 1, Integer::sum);
            // 505 is HTTP's own answer to a version it does not speak (HTTP/9): the right one, not a failure
            String line = new String(request, StandardCharsets.ISO_8859_1).split("\n", 2)[0].strip(); // no version: HTTP/0.9
            String[] tokens = line.split(" ", -1); // two tokens ("OPTIONS0* HTTP/1.1") is HTTP/0.9 to Jetty
            boolean badVersion = tokens.length != 3 || !tokens[2].equals("HTTP/1.1") && !tokens[2].equals("HTTP/1.0");
            if (!(a.status() == 505 && badVersion)) {
                assertThat(a.status()).as("%s: %s (request line ends '%s') -> %s", fuzz.where(), printable(request),
                        line.substring(Math.max(0, line.length() - 40)), a).isLessThan(500);
            }
            if (a.status() != 0 && a.status() != 204 && !a.contentType().startsWith("application/json")) {
                noted.putIfAbsent("non-JSON " + a.status() + " " + a.contentType(), printable(request));
            }
        }
        System.out.println("fuzz api.http: statuses " + statuses + " (0 = closed without an answer)");
        noted.forEach((k, v) -> System.out.println("fuzz api.http: noted " + k + ": " + v));
        assertThat(send(http("GET", "/health", Map.of(), null), "health after").status()).isEqualTo(200);
    }

    static String printable(byte[] request) {
        String s = new String(request, 0, Math.min(request.length, 400), StandardCharsets.ISO_8859_1);
        var b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c == '\r') b.append("\\r");
            else if (c == '\n') b.append("\\n");
            else if (c < 32 || c > 126) b.append(String.format("\\x%02x", (int) c));
            else b.append(c);
        }
        return b + (request.length > 400 ? "...(" + request.length + " bytes)" : "");
    }
}

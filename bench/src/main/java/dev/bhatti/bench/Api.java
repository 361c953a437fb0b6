package dev.bhatti.bench;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The daemon's REST API as the harness uses it: one keep-alive HTTP/1.1 client, JSON read with Jackson.
 * Every call that must succeed throws {@link BenchFailure} otherwise, which ends the run as a functional failure.
 */
public final class Api {
    static final JsonMapper JSON = JsonMapper.builder().build();

    private final String url;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)      // plain keep-alive HTTP/1.1, no h2c upgrade dance
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    public Api(String url, String token) {
        this.url = url;
        this.token = token;
    }

    public String url() { return url; }

    String token() { return token; }

    public record Resp(int status, String body) {
        JsonNode json() { return JSON.readTree(body); }
    }

    public Resp request(String method, String path, String json) throws IOException, InterruptedException {
        var b = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(300));
        if (!path.equals("/health")) b.header("Authorization", "Bearer " + token);
        if (json != null) b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        else b.method(method, HttpRequest.BodyPublishers.noBody());
        var r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Resp(r.statusCode(), r.body());
    }

    /** A call that must answer 2xx. */
    public Resp ok(String method, String path, String json) throws IOException, InterruptedException {
        Resp r = request(method, path, json);
        if (r.status / 100 != 2) throw new BenchFailure(method + " " + path + " -> HTTP " + r.status + ": " + r.body);
        return r;
    }

    public void health() throws IOException, InterruptedException { ok("GET", "/health", null); }

    /** Creates a sandbox and returns its id (the call returns once its agent answers). */
    public String create(String name, int cpus, int memoryMb, boolean keepHot) throws IOException, InterruptedException {
        Resp r = ok("POST", "/sandboxes", "{\"name\":\"" + name + "\",\"cpus\":" + cpus + ",\"memory_mb\":" + memoryMb
                + (keepHot ? ",\"keep_hot\":true" : "") + "}");
        if (r.status != 201) throw new BenchFailure("create " + name + ": expected 201, got " + r.status + ": " + r.body);
        return r.json().path("id").asString();
    }

    public void destroy(String id) throws IOException, InterruptedException { ok("DELETE", "/sandboxes/" + id, null); }

    public void post(String id, String action) throws IOException, InterruptedException {
        ok("POST", "/sandboxes/" + id + "/" + action, null);
    }

    public JsonNode inspect(String id) throws IOException, InterruptedException {
        return ok("GET", "/sandboxes/" + id, null).json();
    }

    /** Runs argv in the sandbox; returns the response (status 200 with exit_code, or an error). */
    public Resp exec(String id, List<String> argv) throws IOException, InterruptedException {
        return exec(id, argv, null);
    }

    /** Runs argv as {@code user} (null: the sandbox's default user). */
    public Resp exec(String id, List<String> argv, String user) throws IOException, InterruptedException {
        var body = JSON.createObjectNode();
        var cmd = body.putArray("cmd");
        argv.forEach(cmd::add);
        body.put("timeout_sec", 60);
        if (user != null) body.put("user", user);
        return request("POST", "/sandboxes/" + id + "/exec", JSON.writeValueAsString(body));
    }

    /** Runs argv and insists on exit code 0; returns its stdout. */
    public String execOk(String id, List<String> argv) throws IOException, InterruptedException {
        return execOk(id, argv, null);
    }

    public String execOk(String id, List<String> argv, String user) throws IOException, InterruptedException {
        Resp r = exec(id, argv, user);
        if (r.status != 200 || r.json().path("exit_code").asInt(-1) != 0) {
            throw new BenchFailure("exec " + String.join(" ", argv) + " -> HTTP " + r.status + ": " + r.body);
        }
        return r.json().path("stdout").asString("");
    }

    public void execTrue(String id) throws IOException, InterruptedException { execOk(id, List.of("true")); }

    public byte[] readFile(String id, String path) throws IOException, InterruptedException {
        var req = HttpRequest.newBuilder(URI.create(url + "/sandboxes/" + id + "/files?path=" + enc(path)))
                .timeout(Duration.ofSeconds(300)).header("Authorization", "Bearer " + token).GET().build();
        var r = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) throw new BenchFailure("read " + path + " -> HTTP " + r.statusCode() + ": " + new String(r.body(), StandardCharsets.UTF_8));
        return r.body();
    }

    public void writeFile(String id, String path, byte[] content) throws IOException, InterruptedException {
        var req = HttpRequest.newBuilder(URI.create(url + "/sandboxes/" + id + "/files?path=" + enc(path)))
                .timeout(Duration.ofSeconds(300)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(content)).build();
        var r = http.send(req, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) throw new BenchFailure("write " + path + " -> HTTP " + r.statusCode() + ": " + r.body());
    }

    /** Lists a guest directory; returns the number of entries. */
    public int listFiles(String id, String path) throws IOException, InterruptedException {
        JsonNode n = ok("GET", "/sandboxes/" + id + "/files?ls=true&path=" + enc(path), null).json();
        JsonNode entries = n.isArray() ? n : n.path("entries");
        return entries.size();
    }

    /** Destroys every sandbox whose name starts with prefix (by listing, so a create cut short is caught too). */
    public synchronized void destroyAll(String prefix) {
        try {
            Resp r = request("GET", "/sandboxes", null);
            if (r.status != 200) return;
            var m = Pattern.compile("\"name\"\\s*:\\s*\"(" + Pattern.quote(prefix) + "[^\"]*)\"").matcher(r.body);
            while (m.find()) {
                try {
                    request("DELETE", "/sandboxes/" + m.group(1), null);
                } catch (Exception e) {
                    System.err.println("cleanup: could not destroy " + m.group(1) + ": " + e);
                }
            }
        } catch (Exception e) {
            System.err.println("cleanup: " + e);
        }
    }

    private static String enc(String s) { return URLEncoder.encode(s, StandardCharsets.UTF_8); }
}

package dev.bhatti.cli;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The OpenAPI document is the contract, checked against a live daemon with real VMs: the test walks every
 * documented route (every operation must be called), and every answer's status, content type and body
 * (JSON, each NDJSON line, WebSocket control messages) must be what the document says for that operation,
 * with objects closed (a field the document does not name fails). Request bodies the daemon accepted are
 * validated too. A route answered only with an error here is listed with the reason.
 */
@ExtendWith(DaemonLogOnFailure.class)
class ApiContractIT {

    @RegisterExtension
    static final DaemonUnderTest bhatti = new DaemonUnderTest("bhatti-contract-");

    /** Operations whose success needs parts this test does not set up; their error answers are still checked. */
    static final Map<String, String> ERRORS_ONLY = Map.ofEntries(
            Map.entry("POST /images/import", "needs an image archive (ImagesIT imports one)"),
            Map.entry("DELETE /tasks/{id}", "cancels a running task; the walk's only task has failed by then"),
            Map.entry("GET /volumes/{name}/backups", "needs an S3 store (VolumeBackupsIT)"),
            Map.entry("POST /volumes/{name}/backups", "needs an S3 store (VolumeBackupsIT)"),
            Map.entry("DELETE /volumes/{name}/backups/{id}", "needs an S3 store (VolumeBackupsIT)"),
            Map.entry("POST /volumes/{name}/backups/{id}/restore", "needs an S3 store (VolumeBackupsIT)"),
            Map.entry("GET /sandboxes/{id}/desktop/screenshot", "needs the computer tier (TierComputerIT)"),
            Map.entry("GET /sandboxes/{id}/desktop/size", "needs the computer tier (TierComputerIT)"),
            Map.entry("POST /sandboxes/{id}/desktop/click", "needs the computer tier (TierComputerIT)"),
            Map.entry("POST /sandboxes/{id}/desktop/move", "needs the computer tier (TierComputerIT)"),
            Map.entry("POST /sandboxes/{id}/desktop/type", "needs the computer tier (TierComputerIT)"),
            Map.entry("POST /sandboxes/{id}/desktop/key", "needs the computer tier (TierComputerIT)"));

    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    static OpenApiContract contract;
    static final List<String> problems = new ArrayList<>();

    record Reply(int status, String contentType, byte[] bytes, HttpResponse<byte[]> raw) {
        String text() { return new String(bytes, StandardCharsets.UTF_8); }

        JsonNode json() { return ApiClient.JSON.readTree(bytes); }
    }

    static String key() throws Exception { return bhatti.daemon().apiKey(); }

    static Reply call(String method, String path, Object body) throws Exception { return call(method, path, body, key(), null); }

    /** One exchange, checked against the contract (problems are collected, the answer is returned). */
    static Reply call(String method, String pathAndQuery, Object body, String key, String accept) throws Exception {
        var b = HttpRequest.newBuilder(URI.create(bhatti.daemon().url() + pathAndQuery)).timeout(Duration.ofMinutes(5));
        if (key != null) b.header("Authorization", "Bearer " + key);
        if (accept != null) b.header("Accept", accept);
        JsonNode jsonBody = null;
        HttpRequest.BodyPublisher publisher;
        if (body == null) {
            publisher = HttpRequest.BodyPublishers.noBody();
        } else if (body instanceof byte[] bytes) {
            b.header("Content-Type", "application/octet-stream");
            publisher = HttpRequest.BodyPublishers.ofByteArray(bytes);
        } else {
            jsonBody = ApiClient.JSON.valueToTree(body);
            b.header("Content-Type", "application/json");
            publisher = HttpRequest.BodyPublishers.ofString(jsonBody.toString());
        }
        var r = HTTP.send(b.method(method, publisher).build(), HttpResponse.BodyHandlers.ofByteArray());
        String contentType = r.headers().firstValue("Content-Type").orElse(null);
        String path = pathAndQuery.split("\\?")[0];
        boolean binary = contentType != null && !contentType.contains("json") && !contentType.startsWith("text/");
        synchronized (problems) {
            problems.addAll(contract.check(method, path, jsonBody, r.statusCode(), contentType,
                    binary ? "<binary>" : new String(r.body(), StandardCharsets.UTF_8)));
        }
        return new Reply(r.statusCode(), contentType, r.body(), r);
    }

    static Reply expect(int status, String method, String path, Object body) throws Exception {
        Reply r = call(method, path, body);
        assertThat(r.status()).as(method + " " + path + " -> " + r.text()).isEqualTo(status);
        return r;
    }

    @Test
    void everyRouteAnswersAsTheDocumentSays() throws Exception {
        var doc = HTTP.send(HttpRequest.newBuilder(URI.create(bhatti.daemon().url() + "/openapi.json")).build(),
                HttpResponse.BodyHandlers.ofString());
        contract = new OpenApiContract(ApiClient.JSON.readTree(doc.body()));

        // meta, and the errors every route shares
        assertThat(call("GET", "/health", null, null, null).status()).isEqualTo(200);
        assertThat(call("GET", "/openapi.json", null, null, null).status()).isEqualTo(200);
        assertThat(call("GET", "/sandboxes", null, null, null).status()).isEqualTo(401);
        assertThat(call("GET", "/sandboxes", null, "bht_" + "0".repeat(64), null).status()).isEqualTo(401);
        expect(404, "GET", "/sandboxes/no-such-sandbox", null);
        expect(400, "POST", "/sandboxes", Map.of("name", "Bad Name!"));
        expect(200, "GET", "/sandboxes", null);

        // a sandbox: create (201, then 200 for the same name), read, change
        long t0 = System.nanoTime();
        var created = expect(201, "POST", "/sandboxes", Map.of("name", "c1", "cpus", 1, "memory_mb", 512)).json();
        System.out.println("[contract] create: " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        String id = created.path("id").asString();
        expect(200, "POST", "/sandboxes", Map.of("name", "c1", "cpus", 1, "memory_mb", 512));
        expect(200, "GET", "/sandboxes/c1", null);
        expect(200, "GET", "/sandboxes", null);
        expect(200, "PATCH", "/sandboxes/c1", Map.of("keep_hot", false));
        expect(200, "PATCH", "/sandboxes/c1", Map.of("labels", Map.of("team", "infra")));
        assertThat(expect(200, "GET", "/sandboxes?label=team=infra", null).json().size()).isEqualTo(1);
        expect(400, "PATCH", "/sandboxes/c1", Map.of("labels", Map.of("bad key", "x")));

        // exec: whole, streamed, detached, and refused
        var whole = expect(200, "POST", "/sandboxes/c1/exec", Map.of("cmd", List.of("sh", "-c", "echo out; echo err >&2; exit 3"))).json();
        assertThat(whole.path("exit_code").asInt()).isEqualTo(3);
        assertThat(whole.path("stdout").asString()).isEqualTo("out\n");
        var streamed = call("POST", "/sandboxes/c1/exec", Map.of("cmd", List.of("sh", "-c", "echo a; echo b >&2; exit 4")), key(), "application/x-ndjson");
        assertThat(streamed.status()).isEqualTo(200);
        assertThat(streamed.contentType()).startsWith("application/x-ndjson");
        assertThat(streamed.text()).contains("\"exit_code\":4");
        var detached = expect(200, "POST", "/sandboxes/c1/exec", Map.of("cmd", List.of("sleep", "600"), "detach", true)).json();
        assertThat(detached.path("pid").asInt()).isPositive();
        expect(400, "POST", "/sandboxes/c1/exec", Map.of("cmd", List.of()));

        // files: write, read, head, list, and a missing one
        byte[] data = "contract\n".getBytes(StandardCharsets.UTF_8);
        expect(200, "PUT", "/sandboxes/c1/files?path=/workspace/a.txt&mode=0644", data);
        assertThat(expect(200, "GET", "/sandboxes/c1/files?path=/workspace/a.txt", null).bytes()).isEqualTo(data);
        expect(200, "HEAD", "/sandboxes/c1/files?path=/workspace/a.txt", null);
        assertThat(expect(200, "GET", "/sandboxes/c1/files?path=/workspace&ls=true", null).text()).contains("a.txt");
        expect(404, "GET", "/sandboxes/c1/files?path=/workspace/none", null);

        // a file watch (NDJSON): uploads are made until it has seen max_events; a missing path is 404
        CompletableFuture<Reply> watching = CompletableFuture.supplyAsync(() -> {
            try {
                return call("GET", "/sandboxes/c1/files/watch?path=/workspace&max_events=2&timeout=120", null);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        for (int i = 0; !watching.isDone() && i < 100; i++) {
            expect(200, "PUT", "/sandboxes/c1/files?path=/workspace/watched-" + i, data);
            try {
                watching.get(1, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException notYet) {
                // the watch may not have been in place for that upload
            }
        }
        var watched = watching.get(2, TimeUnit.MINUTES);
        assertThat(watched.status()).as(watched.text()).isEqualTo(200);
        assertThat(watched.text()).contains("\"path\":\"/workspace/");
        expect(404, "GET", "/sandboxes/c1/files/watch?path=/workspace/none", null);

        // sessions over WebSockets: a piped one started by its first message, a terminal; listed, then closed
        var piped = new Socket("/sandboxes/c1/exec/ws", "/sandboxes/{id}/exec/ws");
        piped.send("{\"cmd\":[\"sh\",\"-c\",\"echo piped; sleep 600\"]}");
        String pipedSession = piped.controlMessage("session").path("session_id").asString();
        var terminal = new Socket("/sandboxes/c1/ws?new=true&rows=24&cols=80", "/sandboxes/{id}/ws");
        terminal.controlMessage("session");
        terminal.send("{\"type\":\"resize\",\"rows\":30,\"cols\":100}");
        piped.close();
        terminal.close();
        assertThat(expect(200, "GET", "/sandboxes/c1/sessions", null).text()).contains(pipedSession);
        expect(200, "DELETE", "/sandboxes/c1/sessions/" + pipedSession, null);
        expect(404, "DELETE", "/sandboxes/c1/sessions/no-such-session", null);

        // forwards, the web shell's token, publishing
        var forward = expect(201, "POST", "/sandboxes/c1/forward", Map.of("guest_port", 8000)).json();
        int hostPort = forward.path("host_port").asInt();
        expect(200, "GET", "/sandboxes/c1/forward", null);
        expect(200, "DELETE", "/sandboxes/c1/forward/" + hostPort, null);
        expect(201, "POST", "/sandboxes/c1/forward", Map.of("guest_port", 8001));
        expect(200, "DELETE", "/sandboxes/c1/forward", null);
        expect(200, "POST", "/sandboxes/c1/shell-token", null);
        expect(204, "DELETE", "/sandboxes/c1/shell-token", null);
        expect(201, "POST", "/sandboxes/c1/publish", Map.of("port", 8000, "alias", "contract-c1"));
        expect(200, "POST", "/sandboxes/c1/publish", Map.of("port", 8000, "alias", "contract-c1"));
        expect(200, "GET", "/sandboxes/c1/publish", null);
        expect(204, "DELETE", "/sandboxes/c1/publish/8000", null);

        // secrets
        expect(201, "POST", "/secrets", Map.of("name", "CONTRACT_TOKEN", "value", "s3cret"));
        expect(200, "POST", "/secrets", Map.of("name", "CONTRACT_TOKEN", "value", "s3cret2"));
        assertThat(expect(200, "GET", "/secrets", null).text()).contains("CONTRACT_TOKEN").doesNotContain("s3cret");
        expect(200, "GET", "/secrets/CONTRACT_TOKEN", null);
        expect(200, "DELETE", "/secrets/CONTRACT_TOKEN", null);

        // templates: save, list, read, delete (EditTemplatesIT creates sandboxes from them)
        expect(201, "POST", "/templates", Map.of("name", "ct", "cpus", 1, "env", Map.of("A", "1"), "labels", Map.of("team", "infra")));
        expect(409, "POST", "/templates", Map.of("name", "ct"));
        expect(404, "POST", "/templates", Map.of("name", "ct2", "image", "no-such-image"));
        expect(200, "GET", "/templates", null);
        expect(200, "GET", "/templates/ct", null);
        expect(200, "DELETE", "/templates/ct", null);
        expect(404, "GET", "/templates/ct", null);

        // named snapshots: take, list, read, resume as a new sandbox, delete
        expect(201, "POST", "/sandboxes/c1/checkpoint", Map.of("name", "cp1"));
        expect(409, "POST", "/sandboxes/c1/checkpoint", Map.of("name", "cp1"));
        expect(200, "GET", "/snapshots", null);
        expect(200, "GET", "/snapshots/cp1", null);
        expect(201, "POST", "/snapshots/cp1/resume", Map.of("name", "c2"));
        expect(200, "DELETE", "/sandboxes/c2", null);
        expect(200, "DELETE", "/snapshots/cp1", null);
        // a filesystem snapshot (the disk only), and a fork (a snapshot taken and resumed in one step, none kept)
        expect(201, "POST", "/sandboxes/c1/checkpoint", Map.of("name", "fs1", "type", "filesystem"));
        expect(400, "POST", "/sandboxes/c1/checkpoint", Map.of("name", "fs2", "type", "disk"));
        expect(200, "GET", "/snapshots/fs1", null);
        expect(200, "DELETE", "/snapshots/fs1", null);
        expect(201, "POST", "/sandboxes", Map.of("name", "f1", "from", "c1"));
        expect(404, "POST", "/sandboxes", Map.of("name", "f2", "from", "nosuch"));
        expect(400, "POST", "/sandboxes", Map.of("name", "f2", "from", "c1", "memory_mb", 256));
        expect(409, "POST", "/sandboxes", Map.of("name", "f1", "from", "c1"));
        expect(200, "DELETE", "/sandboxes/f1", null);

        // thermal states: pause (warm), resume, stop (cold), start
        expect(200, "POST", "/sandboxes/c1/pause", null);
        expect(200, "POST", "/sandboxes/c1/resume", null);
        expect(200, "POST", "/sandboxes/c1/stop", null);
        expect(200, "POST", "/sandboxes/c1/start", null);

        // images and tasks: list, read, save a sandbox as an image, a pull that fails as a task
        expect(200, "GET", "/images", null);
        expect(200, "GET", "/images/minimal", null);
        expect(409, "DELETE", "/images/minimal", null);
        expect(201, "POST", "/sandboxes/c1/save-image", Map.of("name", "contract-img"));
        expect(200, "GET", "/images/contract-img", null);
        expect(200, "DELETE", "/images/contract-img", null);
        var task = expect(202, "POST", "/images/pull", Map.of("reference", "127.0.0.1:1/nothing/here:1", "name", "nothing")).json();
        String taskId = task.path("id").asString();
        JsonNode state = waitForTask(taskId);
        assertThat(state.path("state").asString()).isEqualTo("failed");
        int cancelled = call("DELETE", "/tasks/" + taskId, null).status();
        assertThat(cancelled).as("cancelling a finished task").isIn(200, 409);
        expect(404, "GET", "/tasks/no-such-task", null);
        expect(400, "POST", "/images/import?name=junk", "not an image archive".getBytes(StandardCharsets.UTF_8));

        // volumes: create, list, read, grow, clone, delete; backups refused without a store
        expect(201, "POST", "/volumes", Map.of("name", "v1", "size_mb", 16));
        expect(200, "GET", "/volumes", null);
        expect(200, "GET", "/volumes/v1", null);
        expect(200, "POST", "/volumes/v1/resize", Map.of("size_mb", 32));
        expect(201, "POST", "/volumes/v1/clone", Map.of("name", "v2"));
        // no backup store configured: 503, saying what to configure
        assertThat(expect(503, "GET", "/volumes/v1/backups", null).text()).contains("backup");
        expect(503, "POST", "/volumes/v1/backups", null);
        expect(503, "DELETE", "/volumes/v1/backups/b1", null);
        expect(503, "POST", "/volumes/v1/backups/b1/restore", Map.of());
        expect(200, "DELETE", "/volumes/v2", null);
        expect(200, "DELETE", "/volumes/v1", null);

        // metrics
        var metrics = expect(200, "GET", "/metrics", null);
        assertThat(metrics.text()).contains("# TYPE");
        expect(200, "GET", "/admin/metrics", null);

        // the desktop API on a sandbox without a screen: refused, with the error shape
        assertThat(call("GET", "/sandboxes/c1/desktop/screenshot", null).status()).isBetween(400, 499);
        assertThat(call("GET", "/sandboxes/c1/desktop/size", null).status()).isBetween(400, 499);
        assertThat(call("POST", "/sandboxes/c1/desktop/click", Map.of("x", 1, "y", 1)).status()).isBetween(400, 499);
        assertThat(call("POST", "/sandboxes/c1/desktop/move", Map.of("x", 1, "y", 1)).status()).isBetween(400, 499);
        assertThat(call("POST", "/sandboxes/c1/desktop/type", Map.of("text", "x")).status()).isBetween(400, 499);
        assertThat(call("POST", "/sandboxes/c1/desktop/key", Map.of("keys", "Return")).status()).isBetween(400, 499);

        expect(200, "DELETE", "/sandboxes/c1", null);
        expect(404, "GET", "/sandboxes/" + id, null);

        assertThat(problems).as("answers that break the contract").isEmpty();
        var answered = contract.answered();
        var notCalled = contract.operations().stream().map(OpenApiContract.Operation::key).filter(k -> !answered.containsKey(k)).toList();
        assertThat(notCalled).as("documented operations the walk did not call").isEmpty();
        var neverSucceeded = answered.entrySet().stream()
                .filter(e -> e.getValue().stream().noneMatch(s -> s / 100 == 2 || s == 101))
                .map(Map.Entry::getKey)
                .filter(k -> !ERRORS_ONLY.containsKey(k)).toList();
        assertThat(neverSucceeded).as("operations that only answered with errors").isEmpty();
        System.out.println("[contract] " + answered.size() + " operations checked: " + answered);
    }

    static JsonNode waitForTask(String id) {
        return Awaitility.await("task " + id + " ends").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
                .until(() -> expect(200, "GET", "/tasks/" + id, null).json(), t -> !t.path("state").asString().equals("running"));
    }

    /** A WebSocket to the daemon whose text messages are checked against the operation's documented schema. */
    static final class Socket implements WebSocket.Listener {
        private final String template;
        private final LinkedBlockingQueue<JsonNode> control = new LinkedBlockingQueue<>();
        private final StringBuilder partial = new StringBuilder();
        private final WebSocket ws;

        Socket(String path, String template) throws Exception {
            this.template = template;
            this.ws = HTTP.newWebSocketBuilder().header("Authorization", "Bearer " + key())
                    .buildAsync(URI.create(bhatti.daemon().url().replace("http://", "ws://") + path), this)
                    .get(60, TimeUnit.SECONDS);
            // the upgrade was answered with 101, which the document lists for this operation
            synchronized (problems) {
                problems.addAll(contract.check("GET", path.split("\\?")[0], null, 101, null, null));
            }
        }

        void send(String text) throws Exception {
            ws.sendText(text, true).get(30, TimeUnit.SECONDS);
        }

        /** The next control message of {@code type}, skipping others (output on piped sessions is text too). */
        JsonNode controlMessage(String type) throws Exception {
            Instant deadline = Instant.now().plusSeconds(120);
            while (Instant.now().isBefore(deadline)) {
                JsonNode m = control.poll(1, TimeUnit.SECONDS);
                if (m != null && m.path("type").asString().equals(type)) return m;
            }
            throw new AssertionError("no '" + type + "' message on " + template);
        }

        void close() throws Exception {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(30, TimeUnit.SECONDS);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                JsonNode m = controlMessageOrNull(text);
                if (m != null) {
                    synchronized (problems) {
                        problems.addAll(contract.checkSocketMessage(template, "server-messages", m));
                    }
                    control.add(m);
                }
            }
            webSocket.request(1);
            return CompletableFuture.completedFuture(null);
        }

        /** A JSON object with a "type" is a control message (the order of its fields is not part of the protocol). */
        private static JsonNode controlMessageOrNull(String text) {
            if (!text.startsWith("{")) return null;
            try {
                JsonNode m = ApiClient.JSON.readTree(text);
                return m.isObject() && m.has("type") ? m : null;
            } catch (RuntimeException notJson) {
                return null;
            }
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            webSocket.request(1);
            return CompletableFuture.completedFuture(null);
        }
    }
}

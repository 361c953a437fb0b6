package dev.bhatti.server;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real daemon (Jetty, SQLite, QEMU engine) with an empty image directory: every request here is
 * decided before a VM would boot, so no VM is needed. Booting paths are covered by the integration tests.
 */
class ApiValidationTest {

    @TempDir static Path dataDir;
    static Daemon daemon;
    static String base;
    static String key;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        // more bad creates in a row than the default create burst (10), which TenancyTest covers
        Files.writeString(dataDir.resolve("config.yaml"), "rate_limits:\n  create: {burst: 1000, per_minute: 1000}\n");
        daemon = new Daemon(ServerConfig.load(dataDir, "127.0.0.1:0"));
        daemon.start(dataDir.resolve("cli.yaml"), null);
        base = "http://127.0.0.1:" + daemon.port();
        key = Files.readString(dataDir.resolve("admin-api-key")).strip();
    }

    @AfterAll
    static void stop() { daemon.close(); }

    static HttpResponse<String> call(String method, String path, String token, String body) throws Exception {
        var b = HttpRequest.newBuilder(URI.create(base + path));
        if (token != null) b.header("Authorization", "Bearer " + token);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void firstStartCreatesAdminWithAPrivateKeyFileAndCliConfig() throws Exception {
        assertThat(key).matches("bht_[0-9a-f]{64}");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir.resolve("admin-api-key")))).isEqualTo("rw-------");
        assertThat(Files.readString(dataDir.resolve("cli.yaml"))).contains("auth_token: " + key).contains("api_url: " + base + "\n");
        assertThat(Files.readString(dataDir.resolve("state.db"), java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain(key);
    }

    @Test
    void healthNeedsNoKeyEverythingElseDoes() throws Exception {
        var health = call("GET", "/health", null, null);
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.headers().firstValue("X-Bhatti-Version")).isPresent();
        assertThat(call("GET", "/sandboxes", null, null).statusCode()).isEqualTo(401);
        var wrong = call("GET", "/sandboxes", "bht_" + "0".repeat(64), null);
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.body()).contains("invalid api key");
        assertThat(call("GET", "/sandboxes/x", null, null).statusCode()).isEqualTo(401);
        assertThat(call("GET", "/sandboxes", key, null).body()).isEqualTo("[]");
    }

    @Test
    void badCreateRequestsAre400AndLeaveNothingBehind() throws Exception {
        String[] bodies = {
                "{\"name\":\"\"}", "{\"name\":\"" + "a".repeat(64) + "\"}", "{\"name\":\"bad name\"}", "{\"name\":\"-dash\"}",
                "{\"name\":\"../etc\"}", "{\"cpus\":0}", "{\"cpus\":1.5}", "{\"cpus\":999}", "{\"memory_mb\":64}",
                "{\"memory_mb\":10000000}", "{\"memory_mb\":512.5}", "{\"image\":\"nope\"}", "{\"memroy_mb\":512}",
                "not json", "[]", "", "{\"name\":\"0123456789abcdef\"}"};
        for (String body : bodies) {
            var r = call("POST", "/sandboxes", key, body);
            assertThat(r.statusCode()).as(body).isEqualTo(400);
            assertThat(r.body()).as(body).startsWith("{\"error\":");
        }
        assertThat(call("GET", "/sandboxes", key, null).body()).isEqualTo("[]");
        assertThat(Files.list(dataDir.resolve("sandboxes"))).isEmpty();
    }

    @Test
    void unknownSandboxesAre404AndUnknownRoutesToo() throws Exception {
        assertThat(call("GET", "/sandboxes/nope", key, null).statusCode()).isEqualTo(404);
        assertThat(call("DELETE", "/sandboxes/nope", key, null).statusCode()).isEqualTo(404);
        assertThat(call("POST", "/sandboxes/nope/exec", key, "{\"cmd\":[\"true\"]}").statusCode()).isEqualTo(404);
        assertThat(call("GET", "/nothing/here", key, null).statusCode()).isEqualTo(404);
        assertThat(call("PUT", "/sandboxes", key, "{}").statusCode()).isEqualTo(405);
    }

    /** A name shaped like an id would shadow another sandbox in name-or-id lookups: refused wherever a name is given. */
    @Test
    void namesShapedLikeIdsAreRefusedEverywhere() throws Exception {
        String idLike = "{\"name\":\"00aa11bb22cc33dd\"}";
        for (String[] call : new String[][]{{"POST", "/sandboxes"}, {"POST", "/snapshots/whatever/resume"},
                {"POST", "/sandboxes/whatever/checkpoint"}}) {
            var r = call(call[0], call[1], key, idLike);
            assertThat(r.statusCode()).as(call[1]).isEqualTo(400);
            assertThat(r.body()).as(call[1]).startsWith("{\"error\":").contains("form of an id");
        }
        assertThat(call("GET", "/sandboxes", key, null).body()).isEqualTo("[]");
    }

    /** Setuid, setgid and sticky are not kept (the owner change clears them): refused, not silently dropped. */
    @Test
    void fileModesBeyondPermissionBitsAre400() throws Exception {
        for (String mode : new String[]{"4755", "04755", "2755", "1777", "7777"}) {
            var r = call("PUT", "/sandboxes/whatever/files?path=/tmp/x&mode=" + mode, key, "x");
            assertThat(r.statusCode()).as(mode).isEqualTo(400);
            assertThat(r.body()).as(mode).startsWith("{\"error\":").contains("only permission bits");
        }
        var atCreate = call("POST", "/sandboxes", key, "{\"files\":[{\"guest_path\":\"/usr/local/bin/x\",\"mode\":\"4755\"}]}");
        assertThat(atCreate.statusCode()).as("files at create, before any VM").isEqualTo(400);
        assertThat(atCreate.body()).contains("only permission bits");
        for (String mode : new String[]{"755", "0644", "0777", "0"}) {
            assertThat(call("PUT", "/sandboxes/whatever/files?path=/tmp/x&mode=" + mode, key, "x").statusCode())
                    .as(mode + " passes the check and meets the unknown sandbox").isEqualTo(404);
        }
    }

    @Test
    void badExecRequestsAre400() throws Exception {
        for (String body : new String[]{"{}", "{\"cmd\":[]}", "{\"cmd\":\"ls\"}", "{\"cmd\":[\"a\\u0000b\"]}",
                "{\"cmd\":[\"true\"],\"timeout_sec\":0}", "{\"cmd\":[\"true\"],\"timeout_sec\":86401}",
                "{\"cmd\":[\"true\"],\"env\":{\"A=B\":\"x\"}}", "{\"cmd\":[\"true\"],\"cwd\":\"relative\"}",
                "{\"cmd\":[\"true\"],\"user\":\"bad user\"}"}) {
            assertThat(call("POST", "/sandboxes/whatever/exec", key, body).statusCode()).as(body).isEqualTo(400);
        }
    }

    /** Limits of the guest's execve are refused up front, saying what to do instead (issue 14: they broke the agent link). */
    @Test
    void execsBeyondWhatTheGuestCanRunAre400WithAWayOut() throws Exception {
        String manyArgs = "{\"cmd\":[\"echo\"" + ",\"a\"".repeat(100_000) + "]}";
        var many = call("POST", "/sandboxes/whatever/exec", key, manyArgs);
        assertThat(many.statusCode()).isEqualTo(400);
        assertThat(many.body()).contains("too many arguments (100001)").contains("stdin or a file");
        var oneHuge = call("POST", "/sandboxes/whatever/exec", key, "{\"cmd\":[\"echo\",\"" + "x".repeat(900_000) + "\"]}");
        assertThat(oneHuge.statusCode()).isEqualTo(400);
        assertThat(oneHuge.body()).contains("argument 1 is 900000 bytes").contains("131071");
        var hugeEnv = call("POST", "/sandboxes/whatever/exec", key, "{\"cmd\":[\"true\"],\"env\":{\"BIG\":\"" + "y".repeat(200_000) + "\"}}");
        assertThat(hugeEnv.statusCode()).isEqualTo(400);
        assertThat(hugeEnv.body()).contains("environment variable BIG");
        String manyMedium = "{\"cmd\":[\"echo\"" + (",\"" + "z".repeat(100_000) + "\"").repeat(10) + "]}";
        var tooMuch = call("POST", "/sandboxes/whatever/exec", key, manyMedium);
        assertThat(tooMuch.statusCode()).isEqualTo(400);
        assertThat(tooMuch.body()).contains("the arguments and environment take");
    }

    @Test
    void hugeHeadersAreRefusedAndTheServerCarriesOn() throws Exception {
        var r = http.send(HttpRequest.newBuilder(URI.create(base + "/sandboxes")).header("Authorization", "Bearer " + key)
                .header("X-Padding", "x".repeat(64 * 1024)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(431);
        assertThat(call("GET", "/health", null, null).statusCode()).isEqualTo(200);
    }

    @Test
    void hugeBodiesAreRefused() throws Exception {
        var r = call("POST", "/sandboxes", key, "{\"name\":\"" + "x".repeat(2 * 1024 * 1024) + "\"}");
        assertThat(r.statusCode()).isEqualTo(413);
    }

    @Test
    void nonUtf8AndWronglyTypedBodiesAre400() throws Exception {
        byte[] latin1 = "{\"name\":\"caf\u00e9\"}".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1); // a lone 0xE9 byte
        var r = http.send(HttpRequest.newBuilder(URI.create(base + "/sandboxes")).header("Authorization", "Bearer " + key)
                .POST(HttpRequest.BodyPublishers.ofByteArray(latin1)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        for (String body : new String[]{"{\"name\":7}", "{\"name\":true}", "{\"keep_hot\":\"yes\"}", "{\"env\":[\"A=B\"]}",
                "{\"name\":\"x'; DROP TABLE sandboxes; --\"}", "{\"name\":\"\u0001ctl\"}"}) {
            var bad = call("POST", "/sandboxes", key, body);
            assertThat(bad.statusCode()).as(body).isEqualTo(400);
            assertThat(bad.body()).as(body).startsWith("{\"error\":");
        }
        assertThat(call("GET", "/sandboxes", key, null).body()).as("nothing was created").isEqualTo("[]");
    }

    /** No number, boolean or string is converted into another type; the error names the field and the type it takes. */
    @Test
    void scalarsAreNeverCoercedAndTheErrorNamesFieldAndType() throws Exception {
        String[][] cases = {
                {"/sandboxes", "{\"memory_mb\":\"512\"}", "field 'memory_mb' must be a whole number"},
                {"/sandboxes", "{\"memory_mb\":512.0}", "field 'memory_mb' must be a whole number"},
                {"/sandboxes", "{\"memory_mb\":true}", "field 'memory_mb' must be a whole number"},
                {"/sandboxes", "{\"memory_mb\":\"\"}", "field 'memory_mb' must be a whole number"},
                {"/sandboxes", "{\"cpus\":\"1\"}", "field 'cpus' must be a number"},
                {"/sandboxes", "{\"name\":123}", "field 'name' must be a string"},
                {"/sandboxes", "{\"name\":false}", "field 'name' must be a string"},
                {"/sandboxes", "{\"keep_hot\":\"true\"}", "field 'keep_hot' must be true or false"},
                {"/sandboxes", "{\"keep_hot\":1}", "field 'keep_hot' must be true or false"},
                {"/sandboxes", "{\"env\":{\"A\":1}}", "field 'env.A' must be a string"},
                {"/sandboxes", "{\"secrets\":[1]}", "field 'secrets[0]' must be a string"},
                {"/sandboxes/whatever/exec", "{\"cmd\":[\"true\"],\"timeout_sec\":\"5\"}", "field 'timeout_sec' must be a whole number"},
                {"/sandboxes/whatever/exec", "{\"cmd\":[\"true\"],\"detach\":\"true\"}", "field 'detach' must be true or false"},
                {"/secrets", "{\"name\":\"A\",\"value\":42}", "field 'value' must be a string"}};
        for (String[] c : cases) {
            var r = call("POST", c[0], key, c[1]);
            assertThat(r.statusCode()).as(c[1]).isEqualTo(400);
            assertThat(r.body()).as(c[1]).isEqualTo("{\"error\":\"" + c[2] + "\"}");
        }
        assertThat(call("GET", "/sandboxes", key, null).body()).isEqualTo("[]");
        assertThat(call("GET", "/secrets", key, null).body()).isEqualTo("[]");
    }

    /** Errors are JSON in the API's words: no Java or Jackson type names, no HTML, whatever was wrong. */
    @Test
    void errorsAreJsonWithoutJavaOrJacksonWords() throws Exception {
        for (String body : new String[]{"{\"name\":[\"a\"]}", "{\"name\":{}}", "{\"secrets\":\"x\"}", "{\"env\":[\"A=B\"]}",
                "{\"memory_mb\":99999999999999}", "{\"name\":\"a\"", "{\"name\":\"a\"}x", "[]", "7", "\"s\"", "{\"memroy_mb\":1}"}) {
            var r = call("POST", "/sandboxes", key, body);
            assertThat(r.statusCode()).as(body).isEqualTo(400);
            assertJsonErrorInPlainWords(body, r.body());
        }
        assertThat(call("POST", "/sandboxes", key, "{\"env\":[\"A=B\"]}").body()).contains("field 'env' must be an object");
        assertThat(call("POST", "/sandboxes", key, "{\"name\":\"a\"").body()).contains("not valid JSON (line 1, column 12)");
        assertThat(call("POST", "/sandboxes", key, "[]").body()).contains("request body must be a JSON object");

        // URIs Jetty will not decode are refused before any handler: still JSON, 400
        for (String target : new String[]{"/sandboxes/%zz", "/%", "/sandboxes/%00", "/sandboxes/a%2Fb", "/../etc", "/sandboxes/%C0%AF",
                "//sandboxes", "/sandboxes/x/files?path=%zz", "/sandboxes/x/files?path=/a&mode=%"}) {
            String reply = raw("GET " + target + " HTTP/1.1");
            assertThat(reply).as(target).startsWith("HTTP/1.1 400 ").containsIgnoringCase("Content-Type: application/json");
            assertJsonErrorInPlainWords(target, reply.substring(reply.indexOf("\r\n\r\n") + 4));
        }
        assertThat(call("GET", "/health", null, null).statusCode()).isEqualTo(200);
    }

    static void assertJsonErrorInPlainWords(String what, String body) {
        assertThat(body).as(what).startsWith("{\"error\":").doesNotContain("<html").doesNotContain("java.").doesNotContain("`")
                .doesNotContain("Exception").doesNotContain("Jackson").doesNotContain("JsonToken").doesNotContain("Coercion");
    }

    /** One request as written, on its own connection; the whole reply. */
    static String raw(String requestLine) throws Exception {
        try (var socket = new Socket("127.0.0.1", daemon.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write((requestLine + "\r\nHost: x\r\nAuthorization: Bearer " + key + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    /**
     * A refusal that comes before the route reads the body (404 here) leaves the connection usable even
     * when the body arrives after the handler is done: the next request on it is answered. Jetty alone
     * would drop the connection then, with no Connection: close, and a client reusing it gets a broken pipe.
     */
    @Test
    void aConnectionStaysUsableAfterARefusalThatCameBeforeTheBody() throws Exception {
        try (var socket = new Socket("127.0.0.1", daemon.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /sandboxes/nope/pause HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key
                    + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(300); // the scenario, not a wait for the daemon: the body comes late, after the route refused
            out.write(("{}GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String replies = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(replies).startsWith("HTTP/1.1 404").contains("sandbox not found: nope");
            assertThat(replies.indexOf("HTTP/1.1 200", replies.indexOf("HTTP/1.1 404"))).as(replies).isPositive();
            assertThat(replies).contains("\"status\":\"ok\"");
        }
    }
}

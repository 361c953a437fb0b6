package dev.bhatti.server;

import dev.bhatti.server.api.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The served OpenAPI document describes exactly the routes the daemon has, and every one of them answers. */
class OpenApiTest {

    @TempDir static Path dataDir;
    static Daemon daemon;
    static String base;
    static String key;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        daemon = new Daemon(ServerConfig.load(dataDir, "127.0.0.1:0"));
        daemon.start(dataDir.resolve("cli.yaml"), null);
        base = "http://127.0.0.1:" + daemon.port();
        key = Files.readString(dataDir.resolve("admin-api-key")).strip();
    }

    @AfterAll
    static void stop() { daemon.close(); }

    static HttpResponse<String> call(String method, String path, String body) throws Exception {
        var b = HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + key);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theDocumentListsExactlyTheRoutesOfTheRouter() throws Exception {
        var r = http.send(HttpRequest.newBuilder(URI.create(base + "/openapi.json")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("served without a key").isEqualTo(200);
        JsonNode doc = Json.MAPPER.readTree(r.body());
        assertThat(doc.path("openapi").asString()).startsWith("3.1");
        var documented = new HashSet<String>();
        for (var path : doc.path("paths").properties()) {
            for (var op : path.getValue().properties()) {
                documented.add(op.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey());
                assertThat(op.getValue().path("operationId").asString()).as(path.getKey()).isNotEmpty();
            }
        }
        Set<String> routed = new HashSet<>();
        daemon.apiRoutes().forEach(route -> routed.add(route.method() + " " + route.template()));
        assertThat(documented).isEqualTo(routed);
    }

    @Test
    void everyRouteIsHandledAndAnythingElseIs404Or405() throws Exception {
        for (var route : daemon.apiRoutes()) {
            String path = route.template().replace("{id}", "nope").replace("{name}", "nope").replace("{session}", "s1")
                    .replace("{port}", "1") + (route.template().endsWith("/files") ? "?path=/x" : "");
            String body = switch (route.method()) {
                case "POST", "PATCH", "PUT" -> "{}";
                default -> null;
            };
            var r = call(route.method(), path, body);
            String what = route.method() + " " + path + " -> " + r.statusCode() + " " + r.body();
            assertThat(r.statusCode()).as(what).isNotIn(405, 500);
            assertThat(r.body()).as(what).doesNotContain("no such route");
        }
        assertThat(call("PUT", "/snapshots", "{}").statusCode()).isEqualTo(405);
        assertThat(call("POST", "/sandboxes/nope/files?path=/x", "x").statusCode()).isEqualTo(405);
        assertThat(call("GET", "/sandboxes/nope/nothing", null).statusCode()).isEqualTo(404);
        assertThat(call("GET", "/users", null).statusCode()).isEqualTo(404);
    }
}

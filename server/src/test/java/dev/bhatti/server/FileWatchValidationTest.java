package dev.bhatti.server;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The file watch route's answers decided before a guest is asked (FileWatchIT covers real watches). */
class FileWatchValidationTest {

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

    static HttpResponse<String> watch(String query) throws Exception {
        var r = HttpRequest.newBuilder(URI.create(base + "/sandboxes/nope/files/watch" + query)).header("Authorization", "Bearer " + key).build();
        return http.send(r, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void badParametersAreRefusedAndAnUnknownSandboxIsNotFound() throws Exception {
        assertThat(watch("").statusCode()).isEqualTo(400);
        assertThat(watch("").body()).contains("'path' is required");
        assertThat(watch("?path=/workspace&max_events=0").body()).contains("max_events must be >= 1");
        assertThat(watch("?path=/workspace&timeout=soon").body()).contains("timeout must be a whole number");
        assertThat(watch("?path=/workspace").statusCode()).isEqualTo(404);
        var noKey = http.send(HttpRequest.newBuilder(URI.create(base + "/sandboxes/nope/files/watch?path=/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(noKey.statusCode()).isEqualTo(401);
    }
}

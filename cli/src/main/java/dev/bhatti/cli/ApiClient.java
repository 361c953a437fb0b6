package dev.bhatti.cli;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A thin JSON client of the daemon's REST API. */
final class ApiClient {
    static final JsonMapper JSON = JsonMapper.builder().build();

    private final CliConfig config;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    ApiClient(CliConfig config) { this.config = config; }

    record Reply(int status, JsonNode body, boolean existing) {}

    Reply get(String path) throws CliException { return send("GET", path, null); }

    Reply delete(String path) throws CliException { return send("DELETE", path, null); }

    Reply post(String path, Object body) throws CliException { return send("POST", path, body); }

    static String segment(String s) { return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20"); }

    /** Sends a request; any non-2xx answer becomes a {@link CliException} carrying the server's message. */
    Reply send(String method, String path, Object body) throws CliException {
        var builder = HttpRequest.newBuilder(URI.create(config.url() + path)).timeout(Duration.ofHours(25));
        if (config.token() != null) builder.header("Authorization", "Bearer " + config.token());
        if (body != null) {
            builder.header("Content-Type", "application/json");
            builder.method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        } else {
            builder.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<byte[]> response;
        try {
            response = http.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (ConnectException e) {
            throw new CliException("cannot reach the bhatti daemon at " + config.url()
                    + "; is it running? (start it with: bhatti serve, or set --url / BHATTI_URL)");
        } catch (IOException e) {
            throw new CliException("request to " + config.url() + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
        JsonNode json;
        try {
            json = response.body().length == 0 ? JSON.nullNode() : JSON.readTree(response.body());
        } catch (RuntimeException e) {
            throw new CliException("the server at " + config.url() + " did not answer JSON (status " + response.statusCode() + ")");
        }
        int status = response.statusCode();
        if (status / 100 != 2) {
            String message = json.path("error").asString("HTTP " + status);
            throw new CliException(status + ": " + message + hint(status), status);
        }
        return new Reply(status, json, response.headers().firstValue("X-Bhatti-Existing").map("true"::equals).orElse(false));
    }

    private String hint(int status) {
        return switch (status) {
            case 401 -> config.token() == null
                    ? " (no API key configured: run bhatti setup --url URL --token KEY, or set BHATTI_TOKEN)"
                    : " (check your API key: bhatti setup --url URL --token KEY)";
            case 404 -> " (bhatti list shows your sandboxes)";
            default -> "";
        };
    }
}

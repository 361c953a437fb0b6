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

    CliConfig config() { return config; }

    /**
     * A WebSocket handshake failed: ask the same path over plain HTTP to learn why (404, 401, 409...),
     * since the JDK's WebSocket client hides the response body.
     */
    String explainFailedUpgrade(Throwable cause, String sandboxPath) {
        try {
            get(sandboxPath);
        } catch (CliException e) {
            return e.getMessage();
        }
        return "could not open the shell: " + cause.getMessage();
    }

    record Reply(int status, JsonNode body, boolean existing) {}

    Reply get(String path) throws CliException { return send("GET", path, null); }

    Reply delete(String path) throws CliException { return send("DELETE", path, null); }

    Reply post(String path, Object body) throws CliException { return send("POST", path, body); }

    static String segment(String s) { return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20"); }

    /** Sends a request; any non-2xx answer becomes a {@link CliException} carrying the server's message. */
    Reply send(String method, String path, Object body) throws CliException {
        HttpResponse<byte[]> response = exchange(request(method, path, body).build(), HttpResponse.BodyHandlers.ofByteArray());
        return reply(response.statusCode(), response.body(), response.headers().firstValue("X-Bhatti-Existing").orElse(""));
    }

    /**
     * POSTs and reads a newline-delimited JSON stream, handing each event to {@code onEvent} as it
     * arrives. An error status is answered like {@link #send}.
     */
    void stream(String path, Object body, java.util.function.Consumer<JsonNode> onEvent) throws CliException {
        var req = request("POST", path, body).header("Accept", "application/x-ndjson").build();
        HttpResponse<java.io.InputStream> response = exchange(req, HttpResponse.BodyHandlers.ofInputStream());
        try (var in = response.body()) {
            if (response.statusCode() / 100 != 2) {
                reply(response.statusCode(), in.readAllBytes(), "");
                return;
            }
            var reader = new java.io.BufferedReader(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.isBlank()) onEvent.accept(JSON.readTree(line));
            }
        } catch (IOException e) {
            throw new CliException("the stream from " + config.url() + " broke: " + e.getMessage());
        }
    }

    /** GETs raw bytes into {@code out}; an error status is answered like {@link #send}. */
    void download(String path, java.io.OutputStream out) throws CliException {
        HttpResponse<java.io.InputStream> response = exchange(request("GET", path, null).build(), HttpResponse.BodyHandlers.ofInputStream());
        try (var in = response.body()) {
            if (response.statusCode() / 100 != 2) {
                reply(response.statusCode(), in.readAllBytes(), "");
                return;
            }
            in.transferTo(out);
            out.flush();
        } catch (IOException e) {
            throw new CliException("download from " + config.url() + " broke: " + e.getMessage());
        }
    }

    /** PUTs a stream of bytes (sent chunked, never held in memory). */
    Reply upload(String path, java.io.InputStream content) throws CliException {
        var builder = HttpRequest.newBuilder(URI.create(config.url() + path)).timeout(Duration.ofHours(25))
                .header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofInputStream(() -> content));
        if (config.token() != null) builder.header("Authorization", "Bearer " + config.token());
        HttpResponse<byte[]> response = exchange(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
        return reply(response.statusCode(), response.body(), "");
    }

    private HttpRequest.Builder request(String method, String path, Object body) {
        var builder = HttpRequest.newBuilder(URI.create(config.url() + path)).timeout(Duration.ofHours(25));
        if (config.token() != null) builder.header("Authorization", "Bearer " + config.token());
        if (body != null) {
            builder.header("Content-Type", "application/json");
            builder.method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        } else {
            builder.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return builder;
    }

    private <T> HttpResponse<T> exchange(HttpRequest request, HttpResponse.BodyHandler<T> handler) throws CliException {
        try {
            return http.send(request, handler);
        } catch (ConnectException e) {
            throw new CliException("cannot reach the bhatti daemon at " + config.url()
                    + "; is it running? (start it with: bhatti serve, or set --url / BHATTI_URL)");
        } catch (IOException e) {
            throw new CliException("request to " + config.url() + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
    }

    private Reply reply(int status, byte[] body, String existingHeader) throws CliException {
        JsonNode json;
        try {
            json = body.length == 0 ? JSON.nullNode() : JSON.readTree(body);
        } catch (RuntimeException e) {
            throw new CliException("the server at " + config.url() + " did not answer JSON (status " + status + ")");
        }
        if (status / 100 != 2) {
            String message = json.path("error").asString("HTTP " + status);
            throw new CliException(status + ": " + message + hint(status, message), status);
        }
        return new Reply(status, json, existingHeader.equals("true"));
    }

    private String hint(int status, String message) {
        return switch (status) {
            case 401 -> config.token() == null
                    ? " (no API key configured: run bhatti setup --url URL --token KEY, or set BHATTI_TOKEN)"
                    : " (check your API key: bhatti setup --url URL --token KEY)";
            case 404 -> message.startsWith("sandbox not found") ? " (bhatti list shows your sandboxes)" : "";
            default -> "";
        };
    }
}

package dev.bhatti.cli;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.util.function.Consumer;

/** A thin JSON client of the daemon's REST API. */
final class ApiClient {
    static final JsonMapper JSON = JsonMapper.builder().build();

    private final CliConfig config;
    private final HttpTransport http;

    ApiClient(CliConfig config) {
        this.config = config;
        this.http = HttpTransport.forUrl(config.url(), Duration.ofSeconds(5), Duration.ZERO);
    }

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
        byte[] json = body == null ? null : JSON.writeValueAsBytes(body);
        var headers = headers();
        if (json != null) headers.put("Content-Type", "application/json");
        var response = exchange(new HttpTransport.Request(method, uri(path), headers, json, null));
        return reply(response.status(), readAll(response), response.header("X-Bhatti-Existing").orElse(""));
    }

    /**
     * POSTs and reads a newline-delimited JSON stream, handing each event to {@code onEvent} as it
     * arrives. An error status is answered like {@link #send}.
     */
    void stream(String path, Object body, Consumer<JsonNode> onEvent) throws CliException {
        stream("POST", path, JSON.writeValueAsBytes(body), onEvent);
    }

    /** GETs a newline-delimited JSON stream (empty keepalive lines skipped), like {@link #stream(String, Object, Consumer)}. */
    void streamGet(String path, Consumer<JsonNode> onEvent) throws CliException { stream("GET", path, null, onEvent); }

    private void stream(String method, String path, byte[] body, Consumer<JsonNode> onEvent) throws CliException {
        var headers = headers();
        if (body != null) headers.put("Content-Type", "application/json");
        headers.put("Accept", "application/x-ndjson");
        var response = exchange(new HttpTransport.Request(method, uri(path), headers, body, null));
        try (var in = response.body()) {
            if (response.status() / 100 != 2) {
                reply(response.status(), in.readAllBytes(), "");
                return;
            }
            var reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.isBlank()) onEvent.accept(JSON.readTree(line));
            }
        } catch (IOException e) {
            throw new CliException("the stream from " + config.url() + " broke: " + e.getMessage());
        }
    }

    /** GETs raw bytes into {@code out}; an error status is answered like {@link #send}. */
    void download(String path, OutputStream out) throws CliException {
        var response = exchange(new HttpTransport.Request("GET", uri(path), headers(), null, null));
        try (var in = response.body()) {
            if (response.status() / 100 != 2) {
                reply(response.status(), in.readAllBytes(), "");
                return;
            }
            in.transferTo(out);
            out.flush();
        } catch (IOException e) {
            throw new CliException("download from " + config.url() + " broke: " + e.getMessage());
        }
    }

    /** A GET's body, at most {@code maxBytes} of it, and its headers (names lower-case). */
    record Fetched(byte[] body, Map<String, String> headers) {}

    /** GETs raw bytes, reading at most {@code maxBytes}; an error status is answered like {@link #send}. */
    Fetched fetch(String path, int maxBytes) throws CliException {
        var response = exchange(new HttpTransport.Request("GET", uri(path), headers(), null, null));
        try (var in = response.body()) {
            if (response.status() / 100 != 2) {
                reply(response.status(), in.readAllBytes(), "");
            }
            return new Fetched(in.readNBytes(maxBytes), response.headers());
        } catch (IOException e) {
            throw new CliException("download from " + config.url() + " broke: " + e.getMessage());
        }
    }

    /** PUTs a stream of bytes (sent chunked, never held in memory). */
    Reply upload(String path, InputStream content) throws CliException { return upload("PUT", path, content); }

    /** Sends a stream of bytes with {@code method} (sent chunked, never held in memory). */
    Reply upload(String method, String path, InputStream content) throws CliException {
        var headers = headers();
        headers.put("Content-Type", "application/octet-stream");
        var response = exchange(new HttpTransport.Request(method, uri(path), headers, null, content));
        return reply(response.status(), readAll(response), "");
    }

    private URI uri(String path) { return URI.create(config.url() + path); }

    private Map<String, String> headers() {
        var headers = new LinkedHashMap<String, String>();
        if (config.token() != null) headers.put("Authorization", "Bearer " + config.token());
        return headers;
    }

    private byte[] readAll(HttpTransport.Response response) throws CliException {
        try (var in = response.body()) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new CliException("request to " + config.url() + " failed: " + e.getMessage());
        }
    }

    private HttpTransport.Response exchange(HttpTransport.Request request) throws CliException {
        try {
            return http.exchange(request);
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
            throw new CliException(status + ": " + message + hint(status, message), status, message);
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

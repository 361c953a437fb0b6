package dev.bhatti.sdk;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * The HTTP side of the SDK, on the JDK's {@link HttpClient}: requests with the key, answers read as JSON
 * into records, and every failure made one of the typed {@link BhattiException}s. HTTP/1.1 only: a plain
 * {@code http://} daemon would otherwise be offered an h2c upgrade on every new connection.
 */
final class Transport implements AutoCloseable {
    /** An error body is read up to this much (the daemon's are a line; a proxy's page is cut). */
    private static final int MAX_ERROR_BODY = 64 * 1024;

    final BhattiConfig config;
    final HttpClient http;
    final Duration connectTimeout;
    final Duration requestTimeout;

    Transport(BhattiConfig config, Duration connectTimeout, Duration requestTimeout) {
        this.config = config;
        this.connectTimeout = connectTimeout;
        this.requestTimeout = requestTimeout;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(connectTimeout).build();
    }

    /** A path segment, percent-encoded (a name with a space or a slash stays one segment). */
    static String segment(String s) { return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20"); }

    URI uri(String pathAndQuery) { return URI.create(config.url() + pathAndQuery); }

    /** A request with the key and {@code timeout} (the time until the answer's headers). */
    HttpRequest.Builder request(String method, String pathAndQuery, HttpRequest.BodyPublisher body, Duration timeout) {
        var b = HttpRequest.newBuilder(uri(pathAndQuery)).timeout(timeout).method(method, body);
        if (config.token() != null) b.header("Authorization", "Bearer " + config.token());
        return b;
    }

    /** A JSON call; {@code body} (a map or a record) is sent as JSON when not null. The answer as a tree (a null node when empty). */
    JsonNode call(String method, String pathAndQuery, Object body) {
        byte[] answer = send(method, pathAndQuery, body, requestTimeout);
        if (answer.length == 0) return Json.MAPPER.nullNode();
        try {
            return Json.MAPPER.readTree(answer);
        } catch (JacksonException e) {
            throw notApiJson(method, pathAndQuery);
        }
    }

    /** A JSON call whose answer is read into {@code type}. */
    <T> T call(String method, String pathAndQuery, Object body, Class<T> type) {
        return call(method, pathAndQuery, body, type, requestTimeout);
    }

    /** A JSON call whose answer is read into {@code type}, given {@code timeout} for it. */
    <T> T call(String method, String pathAndQuery, Object body, Class<T> type, Duration timeout) {
        return read(send(method, pathAndQuery, body, timeout), Json.MAPPER.constructType(type), method, pathAndQuery);
    }


    /** A GET whose answer is a JSON array of {@code type}. */
    <T> List<T> list(String pathAndQuery, Class<T> type) {
        JavaType listType = Json.MAPPER.getTypeFactory().constructCollectionType(List.class, type);
        return List.copyOf(this.<List<T>>read(send("GET", pathAndQuery, null, requestTimeout), listType, "GET", pathAndQuery));
    }

    /** The answer's bytes of a JSON call, given {@code timeout} for it (exec waits as long as its command). */
    byte[] send(String method, String pathAndQuery, Object body, Duration timeout) {
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(Json.MAPPER.writeValueAsBytes(body));
        var b = request(method, pathAndQuery, publisher, timeout).header("Accept", "application/json");
        if (body != null) b.header("Content-Type", "application/json");
        HttpResponse<byte[]> r = exchange(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() / 100 != 2) {
            throw Errors.forStatus(r.statusCode(), r.body(), r.headers().firstValue("Retry-After").orElse(null));
        }
        return r.body();
    }

    /**
     * Sends {@code request} and returns its answer with the body still to read (the caller closes it); a
     * non-2xx answer is read and thrown as its typed error.
     */
    HttpResponse<InputStream> open(HttpRequest request) {
        HttpResponse<InputStream> r = exchange(request, HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() / 100 == 2) return r;
        byte[] body;
        try (InputStream in = r.body()) {
            body = in.readNBytes(MAX_ERROR_BODY);
        } catch (IOException e) {
            body = new byte[0];
        }
        throw Errors.forStatus(r.statusCode(), body, r.headers().firstValue("Retry-After").orElse(null));
    }

    /** One exchange; the JDK's exceptions made {@link ConnectionFailed}s that say what happened. */
    <T> HttpResponse<T> exchange(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        try {
            return http.send(request, handler);
        } catch (HttpConnectTimeoutException e) {
            throw new ConnectionFailed("cannot reach the bhatti daemon at " + config.url() + ": no connection within "
                    + seconds(connectTimeout), e);
        } catch (HttpTimeoutException e) {
            throw new ConnectionFailed("no answer from the bhatti daemon at " + config.url() + " within "
                    + seconds(request.timeout().orElse(requestTimeout)) + " (" + request.method() + " " + request.uri().getRawPath() + ")", e);
        } catch (ConnectException e) {
            throw new ConnectionFailed("cannot reach the bhatti daemon at " + config.url() + " (" + describe(e)
                    + "); is it running? (bhatti serve; or set BHATTI_URL)", e);
        } catch (IOException e) {
            throw new ConnectionFailed(request.method() + " " + request.uri().getRawPath() + " to " + config.url() + " failed: " + describe(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectionFailed("interrupted while waiting for " + config.url(), e);
        }
    }

    private <T> T read(byte[] json, JavaType type, String method, String path) {
        try {
            T value = Json.MAPPER.readValue(json, type);
            if (value == null) throw notApiJson(method, path);
            return value;
        } catch (JacksonException e) {
            throw notApiJson(method, path);
        }
    }

    private ServerError notApiJson(String method, String path) {
        return new ServerError("the daemon at " + config.url() + " answered " + method + " " + path.replaceFirst("\\?.*", "")
                + " with something that is not the API's JSON", 0);
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    static String seconds(Duration d) { return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms"; }

    /** Lets running exchanges finish for a moment, then ends them; the client's threads go. */
    @Override
    public void close() {
        http.shutdown();
        try {
            if (!http.awaitTermination(Duration.ofSeconds(1))) http.shutdownNow();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            http.shutdownNow();
        }
    }
}

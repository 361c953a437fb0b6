package dev.bhatti.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;

/** {@link HttpTransport} through {@code java.net.http}: for https URLs. */
final class JdkHttp implements HttpTransport {
    private final HttpClient http;
    private final Duration readTimeout;

    JdkHttp(Duration connectTimeout, Duration readTimeout) {
        this.http = HttpClient.newBuilder().connectTimeout(connectTimeout).build();
        this.readTimeout = readTimeout.isZero() ? Duration.ofHours(25) : readTimeout;
    }

    @Override
    public Response exchange(Request request) throws IOException, InterruptedException {
        var builder = HttpRequest.newBuilder(request.uri()).timeout(readTimeout);
        request.headers().forEach(builder::header);
        if (request.stream() != null) {
            builder.method(request.method(), HttpRequest.BodyPublishers.ofInputStream(request::stream));
        } else if (request.body() != null) {
            builder.method(request.method(), HttpRequest.BodyPublishers.ofByteArray(request.body()));
        } else {
            builder.method(request.method(), HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<InputStream> response = http.send(builder.build(), HttpResponse.BodyHandlers.ofInputStream());
        var headers = new LinkedHashMap<String, String>();
        response.headers().map().forEach((k, v) -> { if (!v.isEmpty()) headers.put(k.toLowerCase(Locale.ROOT), v.getFirst()); });
        return new Response(response.statusCode(), headers, response.body());
    }
}

package dev.bhatti.server.api;

import org.eclipse.jetty.http.HttpHeader;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** What anyone may ask without a key: whether the daemon is up, and the API's description. */
final class MetaRoutes {
    /** The API description, served as is. */
    private static final byte[] OPENAPI = openApi();

    private final Instant started = Instant.now();

    List<Route> routes() {
        return List.of(
                Route.open("GET", "/health", c -> Reply.ok(Map.of("status", "ok",
                        "uptime", Duration.between(started, Instant.now()).toSeconds() + "s", "version", ApiHandler.VERSION))),
                Route.open("GET", "/openapi.json", c -> {
                    c.response().getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
                    c.response().write(true, ByteBuffer.wrap(OPENAPI), c.callback());
                    return Reply.STREAMED;
                }));
    }

    private static byte[] openApi() {
        try (InputStream in = MetaRoutes.class.getResourceAsStream("/openapi.json")) {
            if (in == null) throw new IllegalStateException("openapi.json is missing from the jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

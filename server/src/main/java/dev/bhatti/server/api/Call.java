package dev.bhatti.server.api;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.store.UserRecord;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import tools.jackson.core.JacksonException;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Optional;

/**
 * One request on its way through a route: the exchange, the user its key belongs to (null on the
 * public routes), and the template's parameters ({@code {id}} of {@code /sandboxes/{id}}).
 */
public record Call(Request request, Response response, Callback callback, UserRecord user, Map<String, String> params) {

    /** JSON bodies beyond this are refused (files stream through their own route). */
    static final int MAX_JSON_BODY = 1024 * 1024;

    String method() { return request.getMethod(); }

    String param(String name) { return params.get(name); }

    /** A path parameter that must be a number (a port). */
    int intParam(String name, String what) {
        try {
            return Integer.parseInt(params.get(name));
        } catch (NumberFormatException e) {
            throw DomainException.invalid(what + " must be a number");
        }
    }

    Call as(UserRecord u) { return new Call(request, response, callback, u, params); }

    /** The JSON body as {@code type}; an empty body is refused. */
    <T> T json(Class<T> type) throws IOException {
        return optionalJson(type).orElseThrow(() -> DomainException.invalid("request body must be a JSON object"));
    }

    /** A JSON body that may be left out entirely (empty). */
    <T> Optional<T> optionalJson(Class<T> type) throws IOException {
        byte[] body;
        try (InputStream in = Content.Source.asInputStream(request)) {
            body = in.readNBytes(MAX_JSON_BODY + 1);
        }
        if (body.length > MAX_JSON_BODY) throw DomainException.tooLarge("request body larger than 1 MB");
        if (body.length == 0) return Optional.empty();
        try {
            T value = Json.MAPPER.readValue(body, type);
            if (value == null) throw DomainException.invalid("request body must be a JSON object");
            return Optional.of(value);
        } catch (JacksonException e) {
            throw DomainException.invalid(Json.problem(e));
        }
    }
}

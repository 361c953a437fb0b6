package dev.bhatti.server.api;

import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Fields;

/**
 * A request's query parameters. A query that does not decode (bad %-escapes, invalid UTF-8) is the
 * client's error: Jetty says "400: Bad query" with an exception that would otherwise reach the client
 * as a 500 (found by ApiFuzzTest).
 */
final class Query {
    private Query() {}

    static Fields of(Request request) {
        try {
            return Request.extractQueryParameters(request);
        } catch (IllegalArgumentException | IllegalStateException e) {
            if (e instanceof IllegalStateException && !(e instanceof HttpException h && h.getCode() / 100 == 4)) throw e;
            throw ApiException.badRequest("malformed query string: escape reserved and non-ASCII characters as UTF-8 %XX");
        }
    }
}

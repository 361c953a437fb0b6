package dev.bhatti.server.api;

import dev.bhatti.server.error.DomainException;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Fields;

/** The request's query parameters; a query that is not valid percent-encoding is the client's error (400). */
final class QueryParameters {
    private QueryParameters() {}

    static Fields of(Request request) {
        try {
            return Request.extractQueryParameters(request);
        } catch (RuntimeException e) { // Jetty's decoder throws on %zz, a lone %, bad UTF-8
            throw DomainException.invalid("the query string is not valid: percent-encode its values as UTF-8 (e.g. %25 for '%')");
        }
    }
}

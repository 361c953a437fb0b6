package dev.bhatti.server.api;

import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Locale;

/**
 * What Jetty answers itself (a URI it cannot decode, an ambiguous path, a header too large) in the API's
 * own shape, {@code {"error": ...}}, instead of its HTML page.
 */
public final class JsonErrorHandler extends ErrorHandler {

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause, Callback callback) {
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, ByteBuffer.wrap(Json.MAPPER.writeValueAsBytes(Map.of("error", text(code, message)))), callback);
    }

    /** Errors found while parsing the request head (before any handler): the same shape. */
    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, "application/json");
        return ByteBuffer.wrap(Json.MAPPER.writeValueAsBytes(Map.of("error", text(status, reason))));
    }

    /** A user-facing sentence: Jetty's reason when it is one, never an exception's text. */
    static String text(int code, String message) {
        String reason = message == null || message.isBlank() || message.contains("Exception") || message.contains("java.")
                ? HttpStatus.getMessage(code) : message;
        if (code == 400) { // nearly always a URI Jetty would not decode: %zz, a lone %, %2F, %00, '//', '..' above the root
            return "bad request" + (reason.equals(HttpStatus.getMessage(400)) ? "" : " (" + reason + ")")
                    + ": check the URI; percent-encode names and paths as UTF-8 (e.g. %25 for '%'), without encoded '/' or NUL";
        }
        return reason.toLowerCase(Locale.ROOT);
    }
}

package dev.bhatti.sdk;

import tools.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A refusal's status and body made into its typed exception: the one place that knows which status is which kind. */
final class Errors {
    /** What of a body that is not the API's JSON error goes into a message (an HTML page from a proxy, say). */
    static final int MAX_RAW_MESSAGE = 300;

    private Errors() {}

    /**
     * The exception for a non-2xx answer. {@code retryAfter} is the Retry-After header (seconds) or null;
     * {@code body} may be empty.
     */
    static BhattiException forStatus(int status, byte[] body, String retryAfter) {
        return of(status, message(status, body), retryAfter(retryAfter));
    }

    /** The exception for a refusal with {@code status} and {@code message} (retryAfter may be null). */
    static BhattiException of(int status, String message, Duration retryAfter) {
        return switch (status) {
            case 400, 405, 413, 414, 415, 422 -> new InvalidRequest(message, status);
            case 401 -> new AuthenticationError(message, status);
            case 403 -> new Forbidden(message, status);
            case 404 -> new NotFound(message, status);
            case 409 -> new Conflict(message, status);
            case 429 -> new RateLimited(message, retryAfter);
            default -> status >= 400 && status < 500 ? new InvalidRequest(message, status) : new ServerError(message, status);
        };
    }

    /** The daemon's {@code {"error": "..."}}, else the body's text (shortened), else the bare status. */
    static String message(int status, byte[] body) {
        if (body == null || body.length == 0) return "HTTP " + status;
        String text = new String(body, StandardCharsets.UTF_8).strip();
        try {
            JsonNode json = Json.MAPPER.readTree(text);
            String error = json.path("error").asString("");
            if (!error.isBlank()) return error;
        } catch (RuntimeException notJson) {
            // a proxy's page or plain text: shown as it is
        }
        if (text.isEmpty()) return "HTTP " + status;
        return "HTTP " + status + ": " + (text.length() > MAX_RAW_MESSAGE ? text.substring(0, MAX_RAW_MESSAGE) + "..." : text);
    }

    /** Retry-After in whole seconds (what the daemon sends); an HTTP date or garbage is no advice. */
    static Duration retryAfter(String header) {
        if (header == null) return null;
        try {
            long seconds = Long.parseLong(header.strip());
            return seconds >= 0 ? Duration.ofSeconds(seconds) : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}

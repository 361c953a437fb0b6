package dev.bhatti.sdk;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Each refusal status is its own exception, with the daemon's message. */
class ErrorsTest {

    private static BhattiException error(int status, String body, String retryAfter) {
        return Errors.forStatus(status, body.getBytes(StandardCharsets.UTF_8), retryAfter);
    }

    @Test
    void eachStatusIsItsKind() {
        assertThat(error(400, "{\"error\":\"cmd must be a non-empty array of strings\"}", null)).isInstanceOf(InvalidRequest.class)
                .hasMessage("cmd must be a non-empty array of strings");
        assertThat(error(401, "{\"error\":\"invalid API key\"}", null)).isInstanceOf(AuthenticationError.class);
        assertThat(error(403, "{\"error\":\"admin only\"}", null)).isInstanceOf(Forbidden.class);
        assertThat(error(404, "{\"error\":\"sandbox not found: x\"}", null)).isInstanceOf(NotFound.class).hasMessage("sandbox not found: x");
        assertThat(error(409, "{\"error\":\"snapshot exists\"}", null)).isInstanceOf(Conflict.class);
        assertThat(error(413, "{\"error\":\"too large\"}", null)).isInstanceOf(InvalidRequest.class);
        assertThat(error(418, "", null)).isInstanceOf(InvalidRequest.class).hasMessage("HTTP 418");
        assertThat(error(500, "{\"error\":\"internal error\",\"request_id\":\"req_1\"}", null)).isInstanceOf(ServerError.class);
        assertThat(error(502, "{\"error\":\"the sandbox failed\"}", null)).isInstanceOf(ServerError.class);
        assertThat(error(503, "", null).status()).isEqualTo(503);
        assertThat(error(302, "", null)).as("a redirect the client does not follow").isInstanceOf(ServerError.class);
    }

    @Test
    void aRateLimitSaysHowLongToWaitWhenTheDaemonDoes() {
        var limited = (RateLimited) error(429, "{\"error\":\"rate limit\"}", "7");
        assertThat(limited.retryAfter()).contains(Duration.ofSeconds(7));
        assertThat(limited.status()).isEqualTo(429);
        assertThat(((RateLimited) error(429, "{\"error\":\"quota: 0 sandboxes\"}", null)).retryAfter()).isEmpty();
        assertThat(((RateLimited) error(429, "", "Wed, 21 Oct 2015 07:28:00 GMT")).retryAfter()).as("a date is no advice here").isEmpty();
    }

    @Test
    void aBodyThatIsNotTheApisJsonIsShownShortened() {
        assertThat(error(502, "<html>Bad Gateway</html>", null)).hasMessage("HTTP 502: <html>Bad Gateway</html>");
        assertThat(error(500, "x".repeat(1000), null).getMessage()).hasSize("HTTP 500: ".length() + Errors.MAX_RAW_MESSAGE + 3);
        assertThat(error(400, "{\"other\":1}", null)).hasMessage("HTTP 400: {\"other\":1}");
    }

    @Test
    void theKindsAreOneSealedFamily() {
        BhattiException e = error(409, "{\"error\":\"taken\"}", null);
        String kind = switch (e) {
            case InvalidRequest x -> "400";
            case AuthenticationError x -> "401";
            case Forbidden x -> "403";
            case NotFound x -> "404";
            case Conflict x -> "409";
            case RateLimited x -> "429";
            case ServerError x -> "5xx";
            case ConnectionFailed x -> "none";
        };
        assertThat(kind).isEqualTo("409");
    }
}

package dev.bhatti.server.api;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.store.StoreException;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class ErrorRepliesTest {

    @Test
    void eachKindOfRefusalHasItsStatus() {
        assertThat(ErrorReplies.status(DomainException.invalid("x"))).isEqualTo(400);
        assertThat(ErrorReplies.status(DomainException.unauthorized("x"))).isEqualTo(401);
        assertThat(ErrorReplies.status(DomainException.forbidden("x"))).isEqualTo(403);
        assertThat(ErrorReplies.status(DomainException.notFound("x"))).isEqualTo(404);
        assertThat(ErrorReplies.status(DomainException.notAllowed("x"))).isEqualTo(405);
        assertThat(ErrorReplies.status(DomainException.conflict("x"))).isEqualTo(409);
        assertThat(ErrorReplies.status(DomainException.tooLarge("x"))).isEqualTo(413);
        assertThat(ErrorReplies.status(DomainException.limitReached("x"))).as("a quota").isEqualTo(429);
        assertThat(ErrorReplies.status(DomainException.failed("x"))).isEqualTo(500);
        assertThat(ErrorReplies.status(DomainException.sandboxFailed("x"))).isEqualTo(502);
        assertThat(ErrorReplies.status(DomainException.unavailable("x"))).isEqualTo(503);
    }

    @Test
    void onlyWaitingHelpsSaysHowLongToWait() {
        var limited = ErrorReplies.of(DomainException.rateLimited("slow down", 7));
        assertThat(limited.status()).isEqualTo(429);
        assertThat(limited.retryAfterSeconds()).contains(7L);
        assertThat(ErrorReplies.of(DomainException.limitReached("sandbox limit reached")).retryAfterSeconds())
                .as("a used-up quota frees by destroying, not by waiting").isEqualTo(Optional.empty());
        var store = ErrorReplies.of(new StoreException("disk I/O error", null));
        assertThat(store.status()).isEqualTo(503);
        assertThat(store.message()).contains("disk I/O error").contains("try again");
        assertThat(store.retryAfterSeconds()).isPresent();
    }
}

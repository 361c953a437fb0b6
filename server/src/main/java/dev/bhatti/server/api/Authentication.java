package dev.bhatti.server.api;

import dev.bhatti.server.auth.ApiKeys;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.events.Events;
import dev.bhatti.server.ratelimit.RateLimits;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;

/**
 * The wrapper every keyed route runs inside: the request's {@code Authorization: Bearer <key>} names
 * its user, and the user's rate limit for that kind of request admits it. Guessing keys is itself
 * rate limited per address.
 */
record Authentication(Store store, RateLimits rateLimits, Events events) {

    /** {@code route}'s endpoint behind authentication and the user's rate limit (its kind fixed by the route). */
    Endpoint around(Route route) {
        var kind = RateLimits.classify(route.method(), route.template());
        return call -> {
            UserRecord user = authenticate(call.request());
            throttle(user, kind);
            return route.endpoint().handle(call.as(user));
        };
    }

    /** The user whose key the request bears; 401 without one or with a wrong one (whose tries are rate limited per address). */
    UserRecord authenticate(Request request) {
        String header = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (header == null || !header.startsWith("Bearer ") || header.length() <= 7) {
            throw DomainException.unauthorized("authorization required: send 'Authorization: Bearer <api key>'");
        }
        String hash = ApiKeys.hash(header.substring(7).strip());
        var user = store.userByKeyHash(hash)
                // the lookup is by hash (an index): the comparison below is the one that must not leak timing
                .filter(u -> MessageDigest.isEqual(u.apiKeyHash().getBytes(StandardCharsets.US_ASCII), hash.getBytes(StandardCharsets.US_ASCII)));
        if (user.isEmpty()) {
            // guessing keys costs a token per try from the address; once they are gone the answer (and the
            // event log) stops growing until the bucket refills
            String from = Request.getRemoteAddr(request);
            var decision = rateLimits.take("address:" + from, RateLimits.Kind.AUTH_FAILURE);
            if (!decision.allowed()) {
                long seconds = decision.retryAfterSeconds();
                throw DomainException.rateLimited("too many failed authentications from " + from + "; retry in " + seconds + " s", seconds);
            }
            events.record("auth.failed", null, null, "invalid api key from " + from);
            throw DomainException.unauthorized("invalid api key");
        }
        return user.get();
    }

    /** The user created at the first start ({@code auth.AdminBootstrap}): the one allowed the operator's routes. */
    static boolean isAdmin(UserRecord user) { return user.name().equals("admin"); }

    /** Refuses (403) a valid key of any user but the admin on an admin-only route. */
    static void requireAdmin(UserRecord user, String route) {
        if (!isAdmin(user)) throw DomainException.forbidden(route + " is for the admin only (user " + user.name() + " is not)");
    }

    /** Draws one token from the user's bucket for this kind of request, or refuses it. */
    private void throttle(UserRecord user, RateLimits.Kind kind) {
        var decision = rateLimits.take(user.id(), kind);
        if (decision.allowed()) return;
        long seconds = decision.retryAfterSeconds();
        var limit = rateLimits.limit(kind);
        throw DomainException.rateLimited("rate limit exceeded for " + kind.name().toLowerCase(Locale.ROOT) + " requests ("
                + limit.burst() + " at once, " + limit.perMinute() + " a minute); retry in " + seconds + " s", seconds);
    }
}

package dev.bhatti.server.api;

import dev.bhatti.server.events.Events;
import dev.bhatti.server.secrets.SecretService;
import dev.bhatti.server.store.SecretRecord;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/** {@code /secrets}: a user's encrypted secrets, set and listed by name; their values are never shown. */
record SecretRoutes(SecretService secrets, Events events) {

    /** {@code POST /secrets}. */
    record SecretBody(String name, String value) {}

    List<Route> routes() {
        return List.of(
                Route.keyed("GET", "/secrets", c -> Reply.ok(secrets.list(c.user()).stream().map(SecretRoutes::view).toList())),
                Route.keyed("POST", "/secrets", this::set),
                Route.keyed("GET", "/secrets/{name}", c -> Reply.ok(view(secrets.get(c.user(), c.param("name"))))),
                Route.keyed("DELETE", "/secrets/{name}", this::delete));
    }

    private Reply set(Call c) throws IOException {
        var body = c.json(SecretBody.class);
        boolean created = secrets.set(c.user(), body.name(), body.value());
        events.record("secret.set", c.user().name(), null, body.name());
        return new Reply(created ? 201 : 200, view(secrets.get(c.user(), body.name())), false);
    }

    private Reply delete(Call c) {
        secrets.delete(c.user(), c.param("name"));
        events.record("secret.delete", c.user().name(), null, c.param("name"));
        return Reply.ok(Map.of("status", "deleted"));
    }

    /** A secret as the API shows it: never its value. */
    private static Map<String, Object> view(SecretRecord s) {
        return Map.of("name", s.name(), "created_at", s.createdAt().toString(), "updated_at", s.updatedAt().toString());
    }
}

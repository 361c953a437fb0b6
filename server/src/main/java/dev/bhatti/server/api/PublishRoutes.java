package dev.bhatti.server.api;

import dev.bhatti.server.events.Events;
import dev.bhatti.server.publish.ProxyBackends;
import dev.bhatti.server.publish.PublishService;
import dev.bhatti.server.sandbox.SandboxService;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code /sandboxes/{id}/publish}: a sandbox's ports on public names through the proxy. */
record PublishRoutes(SandboxService sandboxes, PublishService publishes, ProxyBackends backends, Events events) {

    record PublishBody(Integer port, String alias) {}

    List<Route> routes() {
        return List.of(
                Route.keyed("GET", "/sandboxes/{id}/publish",
                        c -> Reply.ok(publishes.list(sandboxes.get(c.user(), c.param("id"))).stream().map(this::view).toList())),
                Route.keyed("POST", "/sandboxes/{id}/publish", this::publish),
                Route.keyed("DELETE", "/sandboxes/{id}/publish/{port}", this::unpublish));
    }

    private Reply publish(Call c) throws IOException {
        var s = sandboxes.get(c.user(), c.param("id"));
        var body = c.json(PublishBody.class);
        var p = publishes.publish(c.user(), s, body.port(), body.alias());
        if (!p.existing()) events.record("sandbox.publish", c.user().name(), s.name(), "port " + p.rule().port() + " as " + p.rule().alias());
        return Reply.createdOrExisting(view(p), p.existing());
    }

    private Reply unpublish(Call c) {
        var s = sandboxes.get(c.user(), c.param("id"));
        int port = c.intParam("port", "port");
        publishes.unpublish(s, port);
        backends.close(s.id(), port);
        events.record("sandbox.unpublish", c.user().name(), s.name(), "port " + port);
        return Reply.noContent();
    }

    private Map<String, Object> view(PublishService.Published p) {
        var m = new LinkedHashMap<String, Object>();
        m.put("id", p.rule().id());
        m.put("sandbox_id", p.rule().sandboxId());
        m.put("port", p.rule().port());
        m.put("alias", p.rule().alias());
        m.put("url", p.url().isEmpty() ? null : p.url());
        if (p.url().isEmpty()) publishes.whyNoUrl().ifPresent(why -> m.put("url_unavailable", why));
        m.put("created_at", p.rule().createdAt().toString());
        if (p.certificate() != null) m.put("certificate", p.certificate());
        return m;
    }
}

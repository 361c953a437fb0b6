package dev.bhatti.server.api;

import dev.bhatti.server.events.Events;
import dev.bhatti.server.publish.PublishService;
import dev.bhatti.server.sandbox.SandboxService;

import java.util.List;
import java.util.Map;

/** {@code /sandboxes/{id}/shell-token}: a link to a web shell of the sandbox, to share, and its revocation. */
record ShellTokenRoutes(SandboxService sandboxes, WebShells webShells, PublishService publishes, Events events) {

    List<Route> routes() {
        return List.of(
                Route.keyed("POST", "/sandboxes/{id}/shell-token", this::share),
                Route.keyed("DELETE", "/sandboxes/{id}/shell-token", this::revoke));
    }

    private Reply share(Call c) {
        var s = sandboxes.get(c.user(), c.param("id"));
        String token = webShells.newToken(s);
        events.record("sandbox.share", c.user().name(), s.name(), "");
        // a link for others: over https under the API's public name when there is one (then "public")
        var publicUrl = publishes.apiUrl();
        var uri = c.request().getHttpURI();
        String base = publicUrl.orElse(uri.getScheme() + "://" + uri.getAuthority());
        String path = WebShells.PREFIX + s.id() + "#token=" + token;
        return Reply.ok(Map.of("token", token, "path", path, "url", base + path, "public", publicUrl.isPresent()));
    }

    private Reply revoke(Call c) {
        var s = sandboxes.get(c.user(), c.param("id"));
        if (webShells.revoke(s)) events.record("sandbox.unshare", c.user().name(), s.name(), "");
        return Reply.noContent();
    }
}

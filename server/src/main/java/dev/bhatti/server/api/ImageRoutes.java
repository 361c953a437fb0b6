package dev.bhatti.server.api;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.events.Events;
import dev.bhatti.server.image.ImageConfig;
import dev.bhatti.server.image.ImageService;
import dev.bhatti.server.image.registry.RegistryClient;
import dev.bhatti.server.sandbox.SandboxService;
import dev.bhatti.server.store.ImageRecord;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;
import org.eclipse.jetty.io.Content;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /images}: the tiers, a user's own images and those shared with them; pulls run as tasks
 * ({@link TaskRoutes}).
 */
record ImageRoutes(ImageService images, SandboxService sandboxes, Store store, Events events) {

    /** {@code POST /images/pull}: {@code auth} is user:password or user:token for the registry. */
    record PullBody(String reference, String name, String auth, String platform) {}

    /** {@code POST /sandboxes/{id}/save-image}. */
    record SaveBody(String name) {}

    List<Route> routes() {
        return List.of(
                Route.keyed("GET", "/images", this::list),
                Route.keyed("POST", "/images/pull", this::pull),
                Route.keyed("POST", "/images/import", this::importTar),
                Route.keyed("GET", "/images/{name}", this::get),
                Route.keyed("DELETE", "/images/{name}", this::delete),
                Route.keyed("POST", "/sandboxes/{id}/save-image", this::save));
    }

    private Reply list(Call c) {
        var out = new ArrayList<Map<String, Object>>();
        for (String tier : images.tiers()) out.add(tierView(tier));
        for (ImageRecord i : images.list(c.user())) out.add(view(i, c.user(), false));
        return Reply.ok(out);
    }

    /** One image by name as {@code create} resolves it: the user's own first, then a tier (the list shows both). */
    private Reply get(Call c) {
        String name = c.param("name");
        if (!images.has(c.user(), name) && images.tiers().contains(name)) return Reply.ok(tierView(name));
        return Reply.ok(view(images.get(c.user(), name), c.user(), true));
    }

    private Map<String, Object> tierView(String tier) {
        var m = new LinkedHashMap<String, Object>();
        m.put("name", tier);
        m.put("source", "tier");
        m.put("owner", "");
        m.put("size_bytes", images.tierBytes(tier));
        return m;
    }

    private Reply pull(Call c) throws IOException {
        var body = c.json(PullBody.class);
        if (body.reference() == null || body.reference().isBlank()) throw DomainException.invalid("reference is required (like python:3.12)");
        var task = images.pull(c.user(), body.reference(), body.name(), credentials(body.auth()), body.platform());
        events.record("image.pull", c.user().name(), null, body.reference());
        return new Reply(202, TaskRoutes.view(task), false);
    }

    /** {@code POST /images/import?name=NAME}: the archive is the body, streamed (never held in memory). */
    private Reply importTar(Call c) throws IOException {
        String name = QueryParameters.of(c.request()).getValue("name");
        try (InputStream body = Content.Source.asInputStream(c.request())) {
            ImageRecord image = images.importTar(c.user(), name, body);
            events.record("image.import", c.user().name(), null, image.name());
            return Reply.created(view(image, c.user(), false));
        }
    }

    private static RegistryClient.Credentials credentials(String auth) {
        if (auth == null || auth.isEmpty()) return RegistryClient.Credentials.ANONYMOUS;
        int colon = auth.indexOf(':');
        if (colon <= 0) throw DomainException.invalid("auth is user:password (or user:token)");
        return new RegistryClient.Credentials(auth.substring(0, colon), auth.substring(colon + 1));
    }

    private Reply save(Call c) throws IOException {
        var body = c.json(SaveBody.class);
        SandboxRecord s = sandboxes.get(c.user(), c.param("id"));
        ImageRecord saved = images.save(c.user(), s, body.name(), target -> sandboxes.exportDisk(s, target));
        events.record("image.save", c.user().name(), s.name(), saved.name());
        return Reply.created(view(saved, c.user(), false));
    }

    private Reply delete(Call c) throws IOException {
        String name = c.param("name");
        if (!images.has(c.user(), name) && images.tiers().contains(name)) {
            throw DomainException.conflict("'" + name + "' is a tier, built on the server: rebuild it with `bhatti tier build " + name
                    + " --force`; tiers are not deleted through the API");
        }
        images.delete(c.user(), name);
        events.record("image.delete", c.user().name(), null, c.param("name"));
        return Reply.ok(Map.of("status", "deleted"));
    }

    private Map<String, Object> view(ImageRecord i, UserRecord viewer, boolean detail) {
        var m = new LinkedHashMap<String, Object>();
        m.put("name", i.name());
        m.put("source", i.source());
        boolean own = i.userId().equals(viewer.id());
        m.put("owner", own ? viewer.name() : store.users().stream().filter(u -> u.id().equals(i.userId()))
                .map(UserRecord::name).findFirst().orElse(""));
        m.put("shared", !own);
        m.put("size_bytes", i.sizeBytes());
        m.put("digest", i.digest());
        m.put("created_at", i.createdAt().toString());
        if (detail) {
            ImageConfig cfg = ImageService.config(i);
            m.put("config", Map.of("env", cfg.env(), "workdir", cfg.workingDir(), "user", cfg.user(),
                    "entrypoint", cfg.entrypoint(), "cmd", cfg.cmd()));
            m.put("layers", cfg.layers());
        }
        return m;
    }
}

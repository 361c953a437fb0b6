package dev.bhatti.server.api;

import dev.bhatti.server.events.Events;
import dev.bhatti.server.sandbox.SnapshotService;
import dev.bhatti.server.sandbox.SnapshotView;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/** Named snapshots: taken of a sandbox ({@code /sandboxes/{id}/checkpoint}), listed, deleted, resumed as new sandboxes. */
record SnapshotRoutes(SnapshotService snapshots, Events events, SandboxRoutes sandboxViews) {

    /** {@code POST /sandboxes/{id}/checkpoint} names the snapshot; {@code POST /snapshots/{name}/resume} the new sandbox. */
    record NameBody(String name) {}

    /** {@code POST /sandboxes/{id}/checkpoint}: the name, and the type (memory, the default, or filesystem). */
    record TakeBody(String name, String type) {}

    List<Route> routes() {
        return List.of(
                Route.keyed("POST", "/sandboxes/{id}/checkpoint", this::take),
                Route.keyed("GET", "/snapshots", c -> Reply.ok(snapshots.list(c.user()).stream().map(SnapshotView::of).toList())),
                Route.keyed("GET", "/snapshots/{name}", c -> Reply.ok(SnapshotView.of(snapshots.get(c.user(), c.param("name"))))),
                Route.keyed("DELETE", "/snapshots/{name}", this::delete),
                Route.keyed("POST", "/snapshots/{name}/resume", this::resume));
    }

    private Reply take(Call c) throws IOException {
        var body = c.json(TakeBody.class);
        var snap = snapshots.create(c.user(), c.param("id"), body.name(), body.type());
        events.record("snapshot.create", c.user().name(), snap.sourceName(), snap.type() + " snapshot " + snap.name() + ", " + (snap.sizeBytes() >> 20) + " MB");
        return Reply.created(SnapshotView.of(snap));
    }

    private Reply delete(Call c) {
        snapshots.delete(c.user(), c.param("name"));
        events.record("snapshot.delete", c.user().name(), null, "snapshot " + c.param("name"));
        return Reply.ok(Map.of("status", "deleted"));
    }

    private Reply resume(Call c) throws IOException {
        String name = c.optionalJson(NameBody.class).map(NameBody::name).orElse(null);
        var created = snapshots.resume(c.user(), c.param("name"), name);
        events.record("snapshot.resume", c.user().name(), created.sandbox().name(), "from snapshot " + c.param("name"));
        return Reply.created(sandboxViews.view(created.sandbox()));
    }
}

package dev.bhatti.server.api;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.events.Events;
import dev.bhatti.server.forward.Forwards;
import dev.bhatti.server.publish.ProxyBackends;
import dev.bhatti.server.publish.PublishService;
import dev.bhatti.server.sandbox.Labels;
import dev.bhatti.server.sandbox.SandboxService;
import dev.bhatti.server.sandbox.SandboxView;
import dev.bhatti.server.sandbox.SnapshotService;
import dev.bhatti.server.store.SandboxRecord;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code /sandboxes} and {@code /sandboxes/{id}}: create, read, change, destroy, and the thermal transitions. */
record SandboxRoutes(SandboxService sandboxes, SnapshotService snapshots, Events events, Forwards forwards, ProxyBackends backends, WebShells webShells, PublishService publishes) {

    /**
     * {@code PATCH /sandboxes/{id}}: what can change on a live sandbox. {@code labels} maps a key to its new
     * value, or to null to remove it; keys not named stay as they are.
     */
    record PatchBody(Boolean keepHot, Map<String, String> labels, String name) {}

    /** {@code POST /sandboxes/{id}/start}: {@code force} boots from the disk when the snapshot is unusable. */
    record StartBody(boolean force) {}

    List<Route> routes() {
        return List.of(
                Route.keyed("GET", "/sandboxes", this::list),
                Route.keyed("POST", "/sandboxes", this::create),
                Route.keyed("GET", "/sandboxes/{id}", this::inspect),
                Route.keyed("PATCH", "/sandboxes/{id}", this::patch),
                Route.keyed("DELETE", "/sandboxes/{id}", this::destroy),
                Route.keyed("POST", "/sandboxes/{id}/stop", c -> transitioned(c, "stop", sandboxes.stop(c.user(), c.param("id")))),
                Route.keyed("POST", "/sandboxes/{id}/start", c -> transitioned(c, "start", sandboxes.start(c.user(), c.param("id"),
                        c.optionalJson(StartBody.class).map(StartBody::force).orElse(false)))),
                Route.keyed("POST", "/sandboxes/{id}/pause", c -> transitioned(c, "pause", sandboxes.pause(c.user(), c.param("id")))),
                Route.keyed("POST", "/sandboxes/{id}/resume", c -> transitioned(c, "resume", sandboxes.resume(c.user(), c.param("id")))));
    }

    /** A sandbox as the API shows it. */
    SandboxView view(SandboxRecord s) {
        return SandboxView.of(s, sandboxes.thermal(s), sandboxes.networkView(s)).withVolumes(sandboxes.volumes(s)).withLabels(sandboxes.labels(s));
    }

    /** {@code GET /sandboxes}, with {@code ?label=key=value} (repeatable): only those that carry every such label. */
    private Reply list(Call c) {
        var wanted = QueryParameters.of(c.request()).getValuesOrEmpty("label").stream().map(Labels::selector).toList();
        return Reply.ok(sandboxes.list(c.user()).stream().map(this::view)
                .filter(v -> wanted.stream().allMatch(l -> l.getValue().equals(v.labels().get(l.getKey())))).toList());
    }

    private Reply create(Call c) throws IOException {
        var req = c.json(SandboxService.CreateRequest.class);
        if (req.from() != null) return fork(c, req);
        var created = sandboxes.create(c.user(), req);
        SandboxRecord s = created.sandbox();
        if (!created.existing()) events.record("sandbox.create", c.user().name(), s.name(), s.cpus() + " cpu, " + s.memoryMb() + " MB, " + s.image());
        if (created.warnings().isEmpty()) return Reply.createdOrExisting(view(s), created.existing());
        // the sandbox as always, and what its creator should know (below its image's recommended size)
        @SuppressWarnings("unchecked")
        Map<String, Object> body = Json.MAPPER.convertValue(view(s), LinkedHashMap.class);
        body.put("warnings", created.warnings());
        return Reply.createdOrExisting(body, created.existing());
    }

    /** {@code "from"}: a new sandbox from another's current memory, processes and disk. */
    private Reply fork(Call c, SandboxService.CreateRequest req) {
        long started = System.nanoTime();
        SandboxRecord s = snapshots.fork(c.user(), req).sandbox();
        events.record("sandbox.fork", c.user().name(), s.name(), "from " + req.from() + " in " + (System.nanoTime() - started) / 1_000_000 + " ms");
        return Reply.created(view(s));
    }

    private Reply inspect(Call c) {
        var s = sandboxes.get(c.user(), c.param("id"));
        return Reply.ok(view(s).withDiskBytes(sandboxes.diskUsage(s)));
    }

    private Reply patch(Call c) throws IOException {
        var patch = c.json(PatchBody.class);
        if (patch.keepHot() == null && patch.labels() == null && patch.name() == null) {
            throw DomainException.invalid("nothing to change; give keep_hot, labels or name");
        }
        String before = sandboxes.get(c.user(), c.param("id")).name();
        var s = sandboxes.edit(c.user(), c.param("id"), patch.keepHot(), patch.labels(), patch.name());
        if (!s.name().equals(before)) events.record("sandbox.rename", c.user().name(), s.name(), "was " + before);
        return Reply.ok(view(s));
    }

    /** Ends what reaches the sandbox from outside (forwards, published ports, web shells), then the sandbox. */
    private Reply destroy(Call c) {
        var doomed = sandboxes.get(c.user(), c.param("id"));
        forwards.close(doomed.id(), 0);
        backends.close(doomed.id(), 0);
        webShells.disconnect(doomed.id(), "the sandbox was destroyed");
        boolean published = publishes.hasPublished(doomed);
        sandboxes.destroy(c.user(), c.param("id"));
        if (published) publishes.releaseCertificates(); // its names' certificates go now
        events.record("sandbox.destroy", c.user().name(), doomed.name(), "");
        return Reply.ok(Map.of("status", "destroyed"));
    }

    private Reply transitioned(Call c, String op, SandboxRecord s) {
        events.record("sandbox." + op, c.user().name(), s.name(), "");
        return Reply.ok(view(s));
    }
}

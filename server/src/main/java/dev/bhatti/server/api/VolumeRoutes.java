package dev.bhatti.server.api;

import dev.bhatti.server.events.Events;
import dev.bhatti.server.store.VolumeAttachment;
import dev.bhatti.server.store.VolumeRecord;
import dev.bhatti.server.volume.VolumeService;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/** {@code /volumes}: a user's volumes, made, grown, cloned, deleted; attached by a sandbox's create. */
record VolumeRoutes(VolumeService volumes, Events events) {

    /** {@code POST /volumes}. */
    record CreateBody(String name, Integer sizeMb) {}

    /** {@code POST /volumes/{name}/resize}. */
    record ResizeBody(Integer sizeMb) {}

    /** {@code POST /volumes/{name}/clone}: the new volume's name. */
    record CloneBody(String name) {}

    /** A volume as the API shows it: {@code usedBytes} is what its sparse file takes on disk. */
    record VolumeView(String name, int sizeMb, long usedBytes, String status, String source, List<Attachment> attachedTo, String createdAt) {}

    record Attachment(String sandbox, String mount, boolean readOnly) {}

    List<Route> routes() {
        return List.of(
                Route.keyed("GET", "/volumes", c -> Reply.ok(volumes.list(c.user()).stream().map(this::view).toList())),
                Route.keyed("POST", "/volumes", this::create),
                Route.keyed("GET", "/volumes/{name}", c -> Reply.ok(view(volumes.get(c.user(), c.param("name"))))),
                Route.keyed("DELETE", "/volumes/{name}", this::delete),
                Route.keyed("POST", "/volumes/{name}/resize", this::resize),
                Route.keyed("POST", "/volumes/{name}/clone", this::cloneVolume));
    }

    VolumeView view(VolumeRecord v) {
        var attached = volumes.attachments(v).stream().map(VolumeRoutes::attachment).toList();
        return new VolumeView(v.name(), v.sizeMb(), volumes.usedBytes(v), v.status(), v.source(), attached, v.createdAt().toString());
    }

    private static Attachment attachment(VolumeAttachment a) { return new Attachment(a.sandboxName(), a.mount(), a.readOnly()); }

    private Reply create(Call c) throws IOException {
        var body = c.json(CreateBody.class);
        var v = volumes.create(c.user(), body.name(), body.sizeMb());
        events.record("volume.create", c.user().name(), null, v.name() + ", " + v.sizeMb() + " MB");
        return Reply.created(view(v));
    }

    private Reply delete(Call c) {
        volumes.delete(c.user(), c.param("name"));
        events.record("volume.delete", c.user().name(), null, c.param("name"));
        return Reply.ok(Map.of("status", "deleted"));
    }

    private Reply resize(Call c) throws IOException {
        var v = volumes.resize(c.user(), c.param("name"), c.json(ResizeBody.class).sizeMb());
        events.record("volume.resize", c.user().name(), null, v.name() + " to " + v.sizeMb() + " MB");
        return Reply.ok(view(v));
    }

    private Reply cloneVolume(Call c) throws IOException {
        var v = volumes.cloneVolume(c.user(), c.param("name"), c.json(CloneBody.class).name());
        events.record("volume.clone", c.user().name(), null, c.param("name") + " to " + v.name());
        return Reply.created(view(v));
    }
}

package dev.bhatti.server.api;

import dev.bhatti.server.events.Events;
import dev.bhatti.server.store.VolumeAttachment;
import dev.bhatti.server.store.VolumeRecord;
import dev.bhatti.server.volume.VolumeBackupService;
import dev.bhatti.server.volume.VolumeService;
import dev.bhatti.server.volume.backup.BackupInfo;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/** {@code /volumes}: a user's volumes, made, grown, cloned, deleted; attached by a sandbox's create. */
record VolumeRoutes(VolumeService volumes, VolumeBackupService backups, Events events) {

    /** {@code POST /volumes}. */
    record CreateBody(String name, Integer sizeMb) {}

    /** {@code POST /volumes/{name}/resize}. */
    record ResizeBody(Integer sizeMb) {}

    /** {@code POST /volumes/{name}/clone}: the new volume's name. */
    record CloneBody(String name) {}

    /** A volume as the API shows it: {@code usedBytes} is what its sparse file takes on disk. */
    record VolumeView(String name, int sizeMb, long usedBytes, String status, String source, List<Attachment> attachedTo, String createdAt) {}

    record Attachment(String sandbox, String mount, boolean readOnly) {}

    /** {@code POST /volumes/{name}/backups/{id}/restore}: {@code as} restores into a new volume of that name. */
    record RestoreBody(String as) {}

    /** A backup as the API shows it: {@code uploadedBytes} is what this backup sent (chunks new to the store). */
    record BackupView(String id, String volume, String createdAt, long sizeBytes, int chunks, int uploadedChunks, long uploadedBytes,
                      long millis) {
        static BackupView of(BackupInfo b) {
            return new BackupView(b.id(), b.volume(), b.createdAt().toString(), b.sizeBytes(), b.chunkCount(), b.uploadedChunks(),
                    b.uploadedBytes(), b.millis());
        }
    }

    List<Route> routes() {
        return List.of(
                Route.keyed("GET", "/volumes", c -> Reply.ok(volumes.list(c.user()).stream().map(this::view).toList())),
                Route.keyed("POST", "/volumes", this::create),
                Route.keyed("GET", "/volumes/{name}", c -> Reply.ok(view(volumes.get(c.user(), c.param("name"))))),
                Route.keyed("DELETE", "/volumes/{name}", this::delete),
                Route.keyed("POST", "/volumes/{name}/resize", this::resize),
                Route.keyed("POST", "/volumes/{name}/clone", this::cloneVolume),
                Route.keyed("GET", "/volumes/{name}/backups",
                        c -> Reply.ok(backups.list(c.user(), c.param("name")).stream().map(BackupView::of).toList())),
                Route.keyed("POST", "/volumes/{name}/backups", this::backup),
                Route.keyed("DELETE", "/volumes/{name}/backups/{id}", this::deleteBackup),
                Route.keyed("POST", "/volumes/{name}/backups/{id}/restore", this::restore));
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

    private Reply backup(Call c) {
        var task = backups.backup(c.user(), c.param("name"));
        events.record("volume.backup", c.user().name(), null, c.param("name"));
        return new Reply(202, TaskRoutes.view(task), false);
    }

    private Reply deleteBackup(Call c) {
        backups.delete(c.user(), c.param("name"), c.param("id"));
        events.record("volume.backup_delete", c.user().name(), null, c.param("name") + " backup " + c.param("id"));
        return Reply.ok(Map.of("status", "deleted"));
    }

    private Reply restore(Call c) throws IOException {
        String as = c.optionalJson(RestoreBody.class).map(RestoreBody::as).orElse(null);
        var task = backups.restore(c.user(), c.param("name"), c.param("id"), as);
        events.record("volume.restore", c.user().name(), null, c.param("name") + " backup " + c.param("id") + (as == null ? "" : " as " + as));
        return new Reply(202, TaskRoutes.view(task), false);
    }

    private Reply cloneVolume(Call c) throws IOException {
        var v = volumes.cloneVolume(c.user(), c.param("name"), c.json(CloneBody.class).name());
        events.record("volume.clone", c.user().name(), null, c.param("name") + " to " + v.name());
        return Reply.created(view(v));
    }
}

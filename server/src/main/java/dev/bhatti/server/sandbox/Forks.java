package dev.bhatti.server.sandbox;

import dev.bhatti.engine.Engine;
import dev.bhatti.engine.EngineException;
import dev.bhatti.server.auth.ApiKeys;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.quota.Quotas;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.SnapshotRecord;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;
import dev.bhatti.server.volume.VolumeAttachments;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * A fork: a new sandbox that starts from another's current memory, processes and disk, with its own id,
 * name, hostname, address and random seed. It is a snapshot taken and resumed in one step: the snapshot is
 * temporary (status {@link #FORKING}, never listed, never counted against the snapshot limits) and goes
 * when the fork is made or has failed; one left by a daemon that died meanwhile is removed at the next
 * start like any unfinished snapshot. The source stands still only while its memory and disk are copied
 * and goes on as it was: a hot one runs on, a warm one stays paused, and a cold (stopped) one is copied
 * from its files on disk without being woken.
 */
public final class Forks {
    private static final Logger log = LoggerFactory.getLogger(Forks.class);
    /** The status of a fork's temporary snapshot: never ready, so never listed, resumed or kept. */
    static final String FORKING = "forking";

    private final Store store;
    private final Engine engine;
    private final SandboxService sandboxes;
    private final VolumeAttachments volumes;
    private final Quotas quotas;

    Forks(Store store, Engine engine, SandboxService sandboxes, VolumeAttachments volumes) {
        this.store = store;
        this.engine = engine;
        this.sandboxes = sandboxes;
        this.volumes = volumes;
        this.quotas = new Quotas(store);
    }

    /** Forks {@code req.from()}; every refusal comes before anything is copied. */
    SandboxService.Created fork(UserRecord user, SandboxService.CreateRequest req) {
        refuseOtherSettings(req);
        if (req.name() != null) Limits.name(req.name());
        SandboxRecord source = sandboxes.find(user, req.from());
        if (req.cpus() != null && req.cpus() != source.cpus()) throw differs("cpus", source.cpus());
        if (req.memoryMb() != null && req.memoryMb() != source.memoryMb()) throw differs("memory_mb", source.memoryMb());
        if (req.image() != null && !req.image().equals(source.image())) throw differs("image", source.image());
        String name = req.name() != null ? req.name() : Limits.name(trim(source.name()) + "-" + ApiKeys.randomHex(3));
        if (store.sandbox(user.id(), name).filter(s -> s.name().equals(name)).isPresent()) {
            throw DomainException.conflict("a sandbox named " + name + " exists already; pick another --name");
        }
        var writable = store.sandboxVolumes(source.id()).stream().filter(a -> !a.readOnly()).map(a -> a.volumeName()).toList();
        if (!writable.isEmpty()) {
            throw DomainException.conflict("sandbox " + source.name() + " has read-write volume(s) " + String.join(", ", writable)
                    + ": a fork cannot share them (two sandboxes writing one file system corrupts it) and is not made; "
                    + "attach them read-only (--volume NAME:PATH:ro), or take a snapshot and resume it (its volumes are copied)");
        }
        quotas.checkSandbox(user, source.cpus(), source.memoryMb());

        long started = System.nanoTime();
        var temporary = new SnapshotRecord(ApiKeys.randomHex(8), user.id(), ".fork-" + ApiKeys.randomHex(6), FORKING, source.id(),
                source.name(), source.cpus(), source.memoryMb(), source.image(), 0, Instant.now().truncatedTo(ChronoUnit.MILLIS));
        if (!store.insertSnapshot(temporary, Integer.MAX_VALUE)) throw DomainException.failed("could not record the fork's snapshot");
        try {
            sandboxes.checkpoint(source, temporary.id());
            long copied = System.nanoTime();
            volumes.recordSnapshot(temporary.id(), source.id());
            var created = sandboxes.createFromSnapshot(user, temporary, name);
            if (Boolean.TRUE.equals(req.keepHot())) store.updateKeepHot(created.sandbox().id(), true);
            log.info("sandbox {} forked as {} in {} ms (copying the source took {} ms)", source.name(), name,
                    (System.nanoTime() - started) / 1_000_000, (copied - started) / 1_000_000);
            return Boolean.TRUE.equals(req.keepHot())
                    ? new SandboxService.Created(store.sandboxById(created.sandbox().id()).orElse(created.sandbox()), false) : created;
        } finally {
            discard(temporary);
        }
    }

    /** The temporary snapshot's row and files go, whatever happened (its files may not exist). */
    private void discard(SnapshotRecord temporary) {
        store.deleteSnapshot(temporary.id());
        try {
            engine.deleteSnapshot(temporary.id());
        } catch (EngineException e) {
            log.warn("could not remove the fork's snapshot files {}: {} (removed at the next start)", temporary.id(), e.getMessage());
        }
    }

    /** A fork is its source: what a create sets up at boot is the source's already. */
    private static void refuseOtherSettings(SandboxService.CreateRequest req) {
        String other = req.env() != null ? "env" : req.files() != null ? "files" : req.init() != null ? "init"
                : req.secrets() != null ? "secrets" : req.egress() != null ? "egress" : req.allowHosts() != null ? "allow_hosts"
                : req.runEntrypoint() != null ? "run_entrypoint" : req.diskSizeMb() != null ? "disk_size_mb"
                : req.volumes() != null ? "volumes" : req.labels() != null ? "labels" : req.template() != null ? "template" : null;
        if (other != null) {
            throw DomainException.invalid(other + " cannot be combined with from: a fork takes its configuration, disk and volumes from its source");
        }
    }

    private static DomainException differs(String field, Object sources) {
        return DomainException.invalid(field + " cannot differ from the source's with from (" + sources
                + "): a fork resumes the source's memory and devices as they are");
    }

    /** Room for the suffix within a name's length limit. */
    private static String trim(String name) { return name.length() > 56 ? name.substring(0, 56) : name; }
}

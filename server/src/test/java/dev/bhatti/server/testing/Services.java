package dev.bhatti.server.testing;

import dev.bhatti.server.volume.VolumeAttachments;
import dev.bhatti.server.volume.VolumeFiles;
import dev.bhatti.server.volume.VolumeService;

import dev.bhatti.server.auth.UserAdmin;
import dev.bhatti.server.events.Events;
import dev.bhatti.server.metrics.Metrics;
import dev.bhatti.server.net.SandboxNetwork;
import dev.bhatti.server.sandbox.Activity;
import dev.bhatti.server.sandbox.ImageLookup;
import dev.bhatti.server.sandbox.SandboxService;
import dev.bhatti.server.sandbox.SnapshotService;
import dev.bhatti.server.sandbox.ThermalManager;
import dev.bhatti.server.secrets.SecretBox;
import dev.bhatti.server.secrets.SecretService;
import dev.bhatti.server.store.SqliteStore;
import dev.bhatti.server.store.UserRecord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The daemon's services over a real SQLite file and the {@link InMemoryEngine}, wired as the daemon
 * wires them, with a clock the test moves: the logic above the engine, testable in milliseconds.
 */
public final class Services implements AutoCloseable {
    public final InMemoryEngine engine = new InMemoryEngine();
    public final TestClock clock = new TestClock();
    public final SqliteStore store;
    public final Events events;
    public final Activity activity;
    public final SecretService secrets;
    public final SandboxService sandboxes;
    public final SnapshotService snapshots;
    public final VolumeService volumes;
    public final VolumeAttachments attachments;
    public final Metrics metrics = new Metrics();

    public Services(Path dir) {
        store = SqliteStore.open(dir.resolve("state.db"));
        events = new Events(store);
        activity = new Activity(clock);
        try {
            secrets = new SecretService(store, SecretBox.open(dir, 0));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        volumes = new VolumeService(store, engine, new VolumeFiles(dir.resolve("volumes")));
        attachments = new VolumeAttachments(store, volumes);
        sandboxes = new SandboxService(store, engine, "tcg", activity, secrets, events, new SandboxNetwork.None(), ImageLookup.NONE, attachments, metrics);
        snapshots = new SnapshotService(store, engine, sandboxes, attachments);
    }

    /** A user with room for {@code maxSandboxes} sandboxes of up to 4 vCPUs and 4 GB in all, and 3 snapshots. */
    public UserRecord user(String name, int maxSandboxes) {
        return new UserAdmin(store).create(name, new UserAdmin.Quota(maxSandboxes, 4, 4096, 3)).user();
    }

    /** A thermal manager that pauses after {@code warmAfter} idle and snapshots to disk after {@code coldAfter}. */
    public ThermalManager thermal(Duration warmAfter, Duration coldAfter) {
        return new ThermalManager(store, sandboxes.lifecycle(), new ThermalManager.Policy(warmAfter, coldAfter, Duration.ofSeconds(1)), clock, events);
    }

    /** A create request with just a name (everything else defaulted). */
    public static SandboxService.CreateRequest named(String name) {
        return new SandboxService.CreateRequest(name, null, null, null, null, null, null, null, null, null, null);
    }

    @Override
    public void close() { store.close(); }
}

package dev.bhatti.server.auth;

import dev.bhatti.server.sandbox.Limits;
import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.store.SnapshotRecord;
import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import dev.bhatti.server.events.Events;
import java.util.ArrayList;

/**
 * Accounts, administered on the server itself against the store (no HTTP API, no key needed: whoever
 * can read the data directory is the administrator). Keys are shown once; only their hash is kept.
 */
public final class UserAdmin {

    /** A refused or impossible request, worded for the administrator. */
    public static final class UserAdminException extends RuntimeException {
        public UserAdminException(String message) { super(message); }
    }

    /** What a new user may use in all: sandboxes, vCPUs and MB summed over their sandboxes, snapshots. */
    public record Quota(int maxSandboxes, int maxCpus, int maxMemoryMb, int maxSnapshots, int maxStorageMb) {
        public Quota {
            if (maxSandboxes < 0 || maxCpus < 1 || maxMemoryMb < Limits.MIN_MEMORY_MB || maxSnapshots < 0 || maxStorageMb < 0) {
                throw new UserAdminException("limits must be: sandboxes >= 0, cpus >= 1, memory >= " + Limits.MIN_MEMORY_MB
                        + " MB, snapshots >= 0, storage >= 0 MB");
            }
        }

        /** With the default snapshot storage of 20 GB. */
        public Quota(int maxSandboxes, int maxCpus, int maxMemoryMb, int maxSnapshots) {
            this(maxSandboxes, maxCpus, maxMemoryMb, maxSnapshots, 20_480);
        }
    }

    /** A user and, right after create or rotate-key, its key (never stored, never shown again). */
    public record Issued(UserRecord user, String apiKey) {}

    private final Store store;
    private final Events events;

    public UserAdmin(Store store) {
        this.store = store;
        this.events = new Events(store);
    }

    public Issued create(String name, Quota limits) {
        if (name == null || !Limits.NAME.matcher(name).matches()) {
            throw new UserAdminException("invalid user name '" + (name == null ? "" : Limits.printable(name))
                    + "': use letters, digits, '.', '_' and '-', starting with a letter or digit");
        }
        if (store.userByName(name).isPresent()) throw new UserAdminException("user " + name + " exists already");
        String key = ApiKeys.generate();
        var user = new UserRecord("usr_" + ApiKeys.randomHex(4), name, ApiKeys.hash(key), limits.maxSandboxes(), limits.maxCpus(),
                limits.maxMemoryMb(), limits.maxSnapshots(), limits.maxStorageMb(), Instant.now().truncatedTo(ChronoUnit.MILLIS));
        store.insertUser(user);
        events.record("user.create", name, null, limits.maxSandboxes() + " sandboxes, " + limits.maxCpus() + " cpus, "
                + limits.maxMemoryMb() + " MB, " + limits.maxSnapshots() + " snapshots, " + limits.maxStorageMb() + " MB of snapshots");
        return new Issued(user, key);
    }

    public List<UserRecord> list() { return store.users(); }

    /** A new key for the user; the old one is refused from the next request on. */
    public Issued rotateKey(String name) {
        UserRecord user = find(name);
        String key = ApiKeys.generate();
        store.updateApiKeyHash(user.id(), ApiKeys.hash(key));
        events.record("user.rotate_key", name, null, "the old key stopped working");
        return new Issued(user, key);
    }

    /**
     * Deletes a user who owns nothing. Sandboxes run VMs that only the daemon can end, and snapshots are
     * the user's data: both must be removed first, and the refusal says which and how.
     */
    public UserRecord delete(String name) {
        UserRecord user = find(name);
        List<SandboxRecord> sandboxes = store.sandboxes(user.id());
        List<SnapshotRecord> snapshots = store.snapshots(user.id());
        var secrets = store.secrets(user.id());
        if (!sandboxes.isEmpty() || !snapshots.isEmpty() || !secrets.isEmpty()) {
            var owned = new ArrayList<String>();
            if (!sandboxes.isEmpty()) owned.add("sandboxes " + String.join(", ", sandboxes.stream().map(SandboxRecord::name).toList()));
            if (!snapshots.isEmpty()) owned.add("snapshots " + String.join(", ", snapshots.stream().map(SnapshotRecord::name).toList()));
            if (!secrets.isEmpty()) owned.add("secrets " + String.join(", ", secrets.stream().map(s -> s.name()).toList()));
            var b = new StringBuilder("user " + name + " still owns " + String.join(" and ", owned));
            b.append("; remove them first with the user's key (bhatti user rotate-key ").append(name)
                    .append(" gives one), e.g. bhatti destroy NAME -y --token KEY, then delete the user");
            throw new UserAdminException(b.toString());
        }
        store.deleteUser(user.id());
        events.record("user.delete", name, null, "");
        return user;
    }

    private UserRecord find(String name) {
        return store.userByName(name).orElseThrow(() -> new UserAdminException("no user named " + Limits.printableKey(name)));
    }
}

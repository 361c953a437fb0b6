package dev.bhatti.server.store;

import java.util.List;
import java.util.Optional;

/** Durable state of the daemon. SQLite by default; an interface so a shared database can replace it. */
public interface Store extends AutoCloseable {

    Optional<UserRecord> userByKeyHash(String apiKeyHash);

    Optional<UserRecord> userByName(String name);

    int countUsers();

    void insertUser(UserRecord user);

    /** Inserts a sandbox; false if the user already has one of that name (nothing written). */
    boolean insertSandbox(SandboxRecord sandbox);

    Optional<SandboxRecord> sandbox(String userId, String idOrName);

    List<SandboxRecord> sandboxes(String userId);

    Optional<SandboxRecord> sandboxById(String id);

    List<SandboxRecord> allSandboxes();

    int countSandboxes(String userId);

    void updateStatus(String sandboxId, String status, String detail);

    void updateAccelerator(String sandboxId, String accelerator);

    void updateKeepHot(String sandboxId, boolean keepHot);

    void deleteSandbox(String sandboxId);

    /**
     * Takes the snapshot's name for its user, atomically under the user's snapshot cap; false if the name
     * is taken or the cap reached (nothing written). Counted against the cap: every row, creating or ready.
     */
    boolean insertSnapshot(SnapshotRecord snapshot, int maxSnapshots);

    void markSnapshotReady(String snapshotId, long sizeBytes);

    Optional<SnapshotRecord> snapshot(String userId, String idOrName);

    List<SnapshotRecord> snapshots(String userId);

    List<SnapshotRecord> allSnapshots();

    int countSnapshots(String userId);

    void deleteSnapshot(String snapshotId);

    @Override
    void close();
}

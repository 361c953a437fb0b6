package dev.bhatti.server.store;

import java.util.List;
import java.util.Optional;
import java.time.Instant;
import java.util.Map;

/** Durable state of the daemon. SQLite by default; an interface so a shared database can replace it. */
public interface Store extends AutoCloseable {

    Optional<UserRecord> userByKeyHash(String apiKeyHash);

    Optional<UserRecord> userByName(String name);

    List<UserRecord> users();

    /** Replaces the user's key hash: the old key stops working with the next request. */
    void updateApiKeyHash(String userId, String apiKeyHash);

    void deleteUser(String userId);

    int countUsers();

    void insertUser(UserRecord user);

    /** What {@link #insertSandbox} did. */
    enum Insert { INSERTED, NAME_TAKEN, OVER_LIMIT }

    /**
     * Inserts a sandbox if the user has no other of that name and stays within {@code limits} counting
     * it: number of sandboxes, total vCPUs and total memory of all the user's sandboxes. The check and
     * the insert are one statement, so concurrent creates can never overshoot. Nothing is written
     * unless INSERTED.
     */
    Insert insertSandbox(SandboxRecord sandbox, UserRecord limits);

    /** What the user's sandboxes add up to. */
    record Usage(int sandboxes, int cpus, int memoryMb) {}

    Usage usage(String userId);

    Optional<SandboxRecord> sandbox(String userId, String idOrName);

    List<SandboxRecord> sandboxes(String userId);

    Optional<SandboxRecord> sandboxById(String id);

    List<SandboxRecord> allSandboxes();

    void updateStatus(String sandboxId, SandboxStatus status, String detail);

    void updateAccelerator(String sandboxId, String accelerator);

    void updateKeepHot(String sandboxId, boolean keepHot);

    void deleteSandbox(String sandboxId);

    /** Renames the sandbox; false (nothing written) if the user has a sandbox of that name. */
    boolean renameSandbox(String sandboxId, String newName);

    /** The sandbox's labels, by key in key order. */
    Map<String, String> sandboxLabels(String sandboxId);

    /** Sets the labels whose value is not null and removes those whose value is null, in one transaction. */
    void updateSandboxLabels(String sandboxId, Map<String, String> changes);

    /** Adds the template; false (nothing written) if the user has one of that name. */
    boolean insertTemplate(TemplateRecord template);

    List<TemplateRecord> templates(String userId);

    Optional<TemplateRecord> template(String userId, String name);

    boolean deleteTemplate(String userId, String name);

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

    /** Stores a secret's ciphertext, replacing an earlier value; true if it is new. */
    boolean putSecret(String userId, String name, byte[] ciphertext, Instant now);

    List<SecretRecord> secrets(String userId);

    Optional<byte[]> secretCiphertext(String userId, String name);

    boolean deleteSecret(String userId, String name);

    /** Secrets of all users: what the daemon's key must still be able to read. */
    int countAllSecrets();

    void setSandboxSecrets(String sandboxId, List<String> names);

    List<String> sandboxSecrets(String sandboxId);

    /** The user's subnet index, if one was assigned. */
    Optional<Integer> subnetIndex(String userId);

    /**
     * Assigns the user the lowest free subnet index in [0, capacity) unless it has one; returns it, or
     * empty if every index is taken. One statement: concurrent calls never share an index.
     */
    Optional<Integer> assignSubnet(String userId, int capacity);

    /** Every assigned subnet index, by user id. */
    Map<String, Integer> subnets();

    /** Records a sandbox's attachment; false (nothing written) if its IP, MAC or TAP is taken. */
    boolean insertNetwork(NetworkRecord network);

    Optional<NetworkRecord> network(String sandboxId);

    List<NetworkRecord> networks();

    void deleteNetwork(String sandboxId);

    /** What {@link #insertPublish} did. */
    enum PublishInsert { INSERTED, ALIAS_TAKEN, PORT_PUBLISHED }

    /** Publishes a port; nothing is written unless INSERTED (the alias and the sandbox's port are unique). */
    PublishInsert insertPublish(PublishRecord rule);

    List<PublishRecord> publishes(String sandboxId);

    Optional<PublishRecord> publishByAlias(String alias);

    /** Every user's published aliases (certificates are kept for exactly these). */
    List<String> publishedAliases();

    /** Removes the sandbox's rule for {@code port}; false if there was none. */
    boolean deletePublish(String sandboxId, int port);

    /** Sets (or replaces) the sandbox's web shell token hash. */
    void setShellToken(String sandboxId, String tokenHash, Instant now);

    Optional<String> shellTokenHash(String sandboxId);

    /** False if the sandbox had no token. */
    boolean deleteShellToken(String sandboxId);

    void recordEvent(EventRecord event);

    /** Newest first. */
    List<EventRecord> events(EventRecord.Filter filter);

    /** Removes events older than {@code cutoff}; returns how many. */
    int deleteEventsBefore(Instant cutoff);

    void recordMetricsSnapshot(MetricsSnapshotRecord snapshot);

    /** Snapshots taken at or after {@code since}, oldest first, at most {@code limit} (the newest ones). */
    List<MetricsSnapshotRecord> metricsSnapshots(Instant since, int limit);

    /** Removes metrics snapshots older than {@code cutoff}; returns how many. */
    int deleteMetricsSnapshotsBefore(Instant cutoff);

    /** Adds the image's row; false if the user has an image of that name. */
    boolean insertImage(ImageRecord image);

    /** The user's own images and those shared with them, by name; own ones first. */
    List<ImageRecord> images(String userId);

    /** The image {@code userId} sees under {@code name}: their own, else one shared with them. */
    Optional<ImageRecord> image(String userId, String name);

    boolean deleteImage(String imageId);

    /** Shares the image with the user (idempotent). */
    void shareImage(String imageId, String userId);

    boolean unshareImage(String imageId, String userId);

    /** The names of the users the image is shared with. */
    List<String> imageShares(String imageId);

    /** Bytes the user's own images take. */
    long imageBytes(String userId);

    /** What {@link #insertVolume} did. */
    enum VolumeInsert { INSERTED, NAME_TAKEN, OVER_LIMIT }

    /**
     * Adds a volume's row if the user's volumes, counting it, add up to at most {@code maxTotalMb}; nothing
     * is written unless INSERTED. One statement: concurrent creates cannot pass the limit together.
     */
    VolumeInsert insertVolume(VolumeRecord volume, long maxTotalMb);

    void markVolumeReady(String volumeId);

    Optional<VolumeRecord> volume(String userId, String name);

    Optional<VolumeRecord> volumeById(String volumeId);

    List<VolumeRecord> volumes(String userId);

    List<VolumeRecord> allVolumes();

    /** MB the user's volumes are sized to in all. */
    long volumeMb(String userId);

    /** Records a new size (and a new generation) if the user's volumes then add up to at most {@code maxTotalMb}. */
    boolean resizeVolume(String volumeId, int sizeMb, long maxTotalMb);

    /** The volume's contents were replaced (a restore): a snapshot's view of it is stale. */
    void bumpVolumeGeneration(String volumeId);

    /** Removes the volume's row unless it is attached; false if attached (nothing written). */
    boolean deleteVolume(String volumeId);

    /** The volume's attachments, with their sandboxes' names. */
    List<VolumeAttachment> volumeAttachments(String volumeId);

    /** The sandbox's volumes in their order. */
    List<VolumeAttachment> sandboxVolumes(String sandboxId);

    /**
     * Attaches the volumes to the sandbox, all or none: a read-write one only if it has no attachment, a
     * read-only one only if it has no read-write attachment, and only ready ones; a read-write attach starts
     * a new generation. Returns why not, or empty when attached.
     */
    Optional<String> attachVolumes(String sandboxId, List<VolumeAttachment> attachments);

    void detachVolumes(String sandboxId);

    void setSnapshotVolumes(String snapshotId, List<SnapshotVolume> volumes);

    List<SnapshotVolume> snapshotVolumes(String snapshotId);

    @Override
    void close();
}

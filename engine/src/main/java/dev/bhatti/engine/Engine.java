package dev.bhatti.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Runs VMs. Knows nothing of users, HTTP or the store: the server maps sandboxes onto engine VMs.
 * Every method may block for as long as the operation takes (a boot takes seconds).
 */
public interface Engine extends AutoCloseable {

    /** Short name shown to users, e.g. "qemu". */
    String name();

    /** Creates and boots a VM and returns once its agent answers. On failure nothing is left behind. */
    VmInfo create(VmSpec spec) throws EngineException;

    /** The VM's current state, or empty if the engine has never heard of it. */
    Optional<VmInfo> info(String vmId);

    /**
     * Whether the VM's files (its description) are on this host: false before a create has written them
     * and once a destroy has begun removing them, when there is nothing left to adopt or boot.
     */
    boolean hasFiles(String vmId);

    /**
     * Takes over a VM left running by a previous daemon process, if it is still alive and answering.
     * Returns its state either way (stopped when its process is gone).
     */
    VmInfo adopt(String vmId);

    /** Stops the VM's vCPUs, keeping its memory (hot to warm). Idempotent on a paused VM. */
    void pause(String vmId) throws EngineException;

    /** Runs a paused VM again (warm to hot) and corrects its clock. Idempotent on a running VM. */
    void resume(String vmId) throws EngineException;

    /**
     * Snapshots memory, devices and disk into the VM's directory, then ends its process, freeing its
     * memory (to cold). If the snapshot cannot be written the VM keeps running and the error is thrown.
     * Idempotent on a suspended VM.
     */
    void suspend(String vmId) throws EngineException;

    /**
     * Brings a VM back to running: a suspended one resumes exactly where it was, a paused one resumes.
     * With {@code coldBoot}, a VM without a usable snapshot (or whose snapshot is to be discarded) boots
     * afresh from its disk instead.
     */
    VmInfo start(String vmId, boolean coldBoot) throws EngineException;

    /**
     * Captures the VM's memory, devices and disk as snapshot {@code snapshotId}, which outlives the VM.
     * The VM stays in the thermal state it was in; a hot one stands still while its memory is copied.
     * Returns the bytes the snapshot takes on disk. Nothing is left behind on failure.
     */
    long checkpoint(String vmId, String snapshotId) throws EngineException;

    /**
     * Captures only the VM's disk and volumes as snapshot {@code snapshotId} (a filesystem snapshot: no
     * memory, so small and quick); {@link #createFromSnapshot} boots it afresh. A hot VM stands still while
     * its disk is copied; what its guest has not written out yet is not in it (the caller syncs first).
     */
    long checkpointDisk(String vmId, String snapshotId) throws EngineException;

    /**
     * Creates and runs VM {@code spec.id()} from the exact moment of snapshot {@code snapshotId}, with the
     * hostname of {@code spec} and a reseeded random generator, so that clones never share identities.
     * {@code spec}'s cpus, memory and tier must be the snapshot's. On failure nothing is left behind.
     * A filesystem snapshot ({@link #checkpointDisk}) boots afresh from its disk instead.
     */
    VmInfo createFromSnapshot(String snapshotId, VmSpec spec) throws EngineException;

    /**
     * The copies of the volumes the VM had when the snapshot was taken, in their order: a resume attaches
     * files with the same contents at the same positions. Read them, never write them.
     */
    List<Path> snapshotVolumes(String snapshotId) throws EngineException;

    /**
     * Runs {@code work} while the VM's vCPUs stand still and QEMU has flushed its disks, so files attached
     * to it (its volumes) can be copied consistently; a hot VM runs again afterwards, a warm, cold or
     * stopped one is left as it is (nothing in it moves).
     */
    <T> T whileStill(String vmId, StillWork<T> work) throws EngineException;

    @FunctionalInterface
    interface StillWork<T> {
        T run() throws IOException, EngineException;
    }

    /** Whether the snapshot was taken with a network interface (it then resumes only with one). */
    boolean snapshotHasNetwork(String snapshotId) throws EngineException;

    /** Removes a snapshot's files. Idempotent. */
    void deleteSnapshot(String snapshotId) throws EngineException;

    /** The complete snapshots on disk, after removing any left unfinished by a crash. */
    List<String> snapshots();

    /** Bytes the VM's files take on disk (disk layer and snapshot, sparse files counted as allocated). */
    long diskUsage(String vmId);

    /**
     * Writes the VM's root disk, flattened, as a raw file system image at {@code target} (for a new base
     * image); the VM stays hot, warm or cold, a hot one standing still while the copy runs. Returns its length.
     */
    long exportDisk(String vmId, Path target) throws EngineException;

    /**
     * Lets go of base images that are gone (a deleted image, a rebuilt tier) once no VM or snapshot uses
     * them any more; returns how many files were removed. Destroys and snapshot deletes do it themselves.
     */
    int pruneUnusedBases();

    /** Stops the VM if it runs and removes every file it owned. Idempotent. */
    void destroy(String vmId) throws EngineException;

    /**
     * The guest of VM {@code vmId}: exec, files, sessions and forwards go there, never through the
     * engine. The handle may be kept; its calls fail while the VM does not run.
     */
    Guest guest(String vmId);

    /** Base images (tiers) this engine can boot. */
    List<String> tiers();

    /** Called on every state change the engine notices by itself (e.g. a VM process that died). */
    void onStateChange(StateListener listener);

    @Override
    void close();

    @FunctionalInterface
    interface StateListener {
        void changed(String vmId, VmState state, String reason);
    }
}

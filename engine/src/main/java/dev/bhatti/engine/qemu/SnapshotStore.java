package dev.bhatti.engine.qemu;

import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.EngineException.Kind;
import dev.bhatti.engine.VmSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Named snapshots on disk: {@code <snapshots>/<id>/} holds {@code vm.properties} (the VM it was taken
 * of), the memory and {@code disk.qcow2}. One is written under {@code <id>.tmp} and renamed into
 * place when complete, so a directory without the suffix is always whole.
 */
final class SnapshotStore {
    private static final Logger log = LoggerFactory.getLogger(SnapshotStore.class);
    private static final Pattern ID = Pattern.compile("[a-z0-9]{1,32}");
    private static final String SPEC = "vm.properties";
    private static final String DISK = "disk.qcow2";

    private final Path root;

    SnapshotStore(Path root) {
        this.root = root;
    }

    /** The snapshot's directory; the id is checked first, so it can never name another path. */
    Path dir(String snapshotId) throws EngineException {
        if (snapshotId == null || !ID.matcher(snapshotId).matches()) throw new EngineException(Kind.INVALID, "bad snapshot id");
        return root.resolve(snapshotId);
    }

    /** Where a snapshot is written before it is complete. */
    static Path staging(Path dir) { return dir.resolveSibling(dir.getFileName() + ".tmp"); }

    static Path spec(Path dir) { return dir.resolve(SPEC); }

    static Path disk(Path dir) { return dir.resolve(DISK); }

    /** Present in a filesystem snapshot: its disk and volumes only, no memory; it resumes as a fresh boot. */
    static Path diskOnly(Path dir) { return dir.resolve("filesystem"); }

    /** The copy of the VM's volume {@code index} as it was at the snapshot. */
    static Path volume(Path dir, int index) { return dir.resolve("volume-" + index + ".raw"); }

    /** The description of the VM the snapshot was taken of. */
    VmSpec savedSpec(String snapshotId) throws EngineException {
        Path dir = dir(snapshotId);
        try {
            return SpecFile.read(spec(dir));
        } catch (IOException e) {
            boolean there = Files.isDirectory(dir);
            throw new EngineException(there ? Kind.FAILED : Kind.NOT_FOUND,
                    "snapshot " + snapshotId + " is " + (there ? "unreadable: " + e.getMessage() : "missing on disk"));
        }
    }

    /**
     * A snapshot resumes only as the machine it was taken of: same cpus, memory and image, and a NIC
     * exactly if it had one (the NIC is part of the saved device state).
     */
    static void checkResumable(VmSpec saved, VmSpec spec) throws EngineException {
        if (saved.cpus() != spec.cpus() || saved.memoryMb() != spec.memoryMb() || !saved.tier().equals(spec.tier())) {
            throw new EngineException(Kind.INVALID, "a snapshot resumes with the cpus, memory and image it was taken with ("
                    + saved.cpus() + " cpu, " + saved.memoryMb() + " MB, " + saved.tier() + ")");
        }
        if (saved.volumes().size() != spec.volumes().size()) {
            throw new EngineException(Kind.INVALID, "this snapshot was taken with " + saved.volumes().size()
                    + " volume(s) and resumes only with as many, in the same order");
        }
        for (int i = 0; i < saved.volumes().size(); i++) {
            if (saved.volumes().get(i).readOnly() != spec.volumes().get(i).readOnly()) {
                throw new EngineException(Kind.INVALID, "volume " + i + " of this snapshot was attached "
                        + (saved.volumes().get(i).readOnly() ? "read-only" : "read-write") + " and resumes only so");
            }
        }
        if ((saved.net() == null) != (spec.net() == null)) {
            throw new EngineException(Kind.INVALID, "this snapshot was taken " + (saved.net() == null ? "without" : "with")
                    + " a network interface and can only resume " + (saved.net() == null ? "without" : "with") + " one");
        }
    }

    void delete(String snapshotId) throws EngineException {
        Path dir = dir(snapshotId);
        HostFiles.deleteTree(dir);
        if (Files.exists(dir)) throw new EngineException(Kind.FAILED, "could not remove " + dir);
    }

    /** The ids of the complete snapshots, leaving directories being written alone. */
    List<String> complete() {
        if (!Files.isDirectory(root)) return List.of();
        try (var entries = Files.list(root)) {
            return entries.map(p -> p.getFileName().toString()).filter(n -> ID.matcher(n).matches()).toList();
        } catch (IOException e) {
            log.warn("could not list {}: {}", root, e.getMessage());
            return List.of();
        }
    }

    /** The ids of the complete snapshots; directories staged by snapshots that never finished are removed. */
    List<String> list() {
        if (!Files.isDirectory(root)) return List.of();
        var ids = new ArrayList<String>();
        try (var entries = Files.list(root)) {
            for (Path p : entries.toList()) {
                String name = p.getFileName().toString();
                if (name.endsWith(".tmp")) {
                    HostFiles.deleteTree(p);
                    log.info("removed unfinished snapshot {}", name);
                } else if (ID.matcher(name).matches()) {
                    ids.add(name);
                }
            }
        } catch (IOException e) {
            log.warn("could not list {}: {}", root, e.getMessage());
        }
        return ids;
    }
}

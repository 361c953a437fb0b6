package dev.bhatti.engine.qemu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Removes the pins ({@link HostFiles#pinned}) of base files that are gone and that nothing uses any more:
 * a deleted image, a tier or tools disk replaced by a rebuild. A pin is in use while a VM's or a
 * snapshot's disk layer names it as its backing file, or a VM's or snapshot's spec names it as its tools
 * disk; while its original file still exists (the pin is a second link to it) it costs nothing.
 */
final class BasePins {
    private static final Logger log = LoggerFactory.getLogger(BasePins.class);
    private static final int QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"

    private BasePins() {}

    /** Deletes unused pins under {@code imagesDir}, looking for users in {@code vmDirs} (VMs' and snapshots' directories). */
    static int prune(Path imagesDir, List<Path> vmDirs) {
        if (Files.isSymbolicLink(imagesDir)) {
            // a directory shared with other daemons (a benchmark's, a test's): their VMs' pins are not ours to judge
            log.debug("{} is a link to a shared images directory; pins left alone", imagesDir);
            return 0;
        }
        Set<Path> inUse = new HashSet<>();
        for (Path dir : vmDirs) {
            // a VM's directory and a snapshot's hold the same two files: disk.qcow2 and vm.properties
            backing(new VmPaths(dir).disk()).ifPresent(p -> inUse.add(real(p)));
            try {
                var spec = SpecFile.read(new VmPaths(dir).spec());
                if (spec.tools() != null) inUse.add(real(spec.tools()));
                if (spec.rootfs() != null) inUse.add(real(spec.rootfs()));
            } catch (IOException e) {
                // none yet (a VM being made) or unreadable: its disk's backing file still counts
            }
        }
        int removed = 0;
        for (Path versions : List.of(imagesDir.resolve(".versions"), imagesDir.resolve("users/.versions"))) {
            if (!Files.isDirectory(versions)) continue;
            try (Stream<Path> pins = Files.list(versions)) {
                for (Path pin : pins.toList()) {
                    if (inUse.contains(real(pin)) || links(pin) != 1) continue;
                    Files.deleteIfExists(pin);
                    removed++;
                    log.info("removed {}: its image is gone and nothing uses it", pin);
                }
            } catch (IOException e) {
                log.warn("could not prune {}: {}", versions, e.getMessage());
            }
        }
        return removed;
    }

    /** One name per file, whatever links led to it (specs name pins by their real path, a listing may not). */
    private static Path real(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }

    /** The file's hard link count, or -1 when it cannot be read. */
    static int links(Path p) {
        try {
            return (Integer) Files.getAttribute(p, "unix:nlink");
        } catch (IOException | RuntimeException e) {
            return -1; // unknown: keep it
        }
    }

    /** The backing file a qcow2 layer names in its header, if it is one and names one. */
    static Optional<Path> backing(Path qcow2) {
        if (!Files.isRegularFile(qcow2)) return Optional.empty();
        try (var f = new RandomAccessFile(qcow2.toFile(), "r")) {
            if (f.length() < 20 || f.readInt() != QCOW2_MAGIC) return Optional.empty();
            f.readInt(); // version
            long offset = f.readLong();
            int size = f.readInt();
            if (offset <= 0 || size <= 0 || size > 4096 || offset + size > f.length()) return Optional.empty();
            byte[] name = new byte[size];
            f.seek(offset);
            f.readFully(name);
            return Optional.of(Path.of(new String(name, StandardCharsets.UTF_8)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}

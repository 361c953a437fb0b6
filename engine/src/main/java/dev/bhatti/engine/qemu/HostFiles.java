package dev.bhatti.engine.qemu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;
import java.nio.file.FileAlreadyExistsException;

/** File operations on the host for VM and snapshot directories: durable copies, sizes, removal. */
public final class HostFiles {
    private static final Logger log = LoggerFactory.getLogger(HostFiles.class);

    private HostFiles() {}

    /**
     * Copies {@code from} to {@code to} and syncs it: reflinked where the filesystem can (instant),
     * sparse everywhere (holes stay holes).
     */
    static void copy(Path from, Path to) throws IOException {
        copyUnsynced(from, to);
        sync(to);
    }

    /** {@link #copy} without waiting for the copy to reach the disk. */
    static void copyUnsynced(Path from, Path to) throws IOException {
        var p = new ProcessBuilder("cp", "--reflink=auto", "--sparse=always", "--", from.toString(), to.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                Files.deleteIfExists(to);
                throw new IOException("copying " + from.getFileName() + " failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while copying " + from.getFileName(), e);
        }
    }

    /** Hard-links an immutable file (no bytes copied), or copies it across filesystems. */
    static void linkOrCopy(Path from, Path to) throws IOException {
        try {
            Files.createLink(to, from);
        } catch (IOException | UnsupportedOperationException e) {
            copy(from, to);
        }
    }

    static void sync(Path file) throws IOException {
        try (FileChannel c = FileChannel.open(file, Files.isDirectory(file) ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
            c.force(true);
        }
    }

    /** Bytes allocated on disk under {@code dir} (sparse files count what they use), or 0. */
    public static long usage(Path dir) {
        if (!Files.exists(dir)) return 0;
        try {
            Process du = new ProcessBuilder("du", "-s", "--block-size=1", dir.toString()).redirectErrorStream(true).start();
            String out = new String(du.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (du.waitFor() != 0) return 0;
            return Long.parseLong(out.split("\\s+")[0]);
        } catch (IOException | NumberFormatException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    log.warn("could not delete {}: {}", p, e.getMessage());
                }
            });
        } catch (IOException e) {
            log.warn("could not list {}: {}", dir, e.getMessage());
        }
    }

    /**
     * A name for exactly the file {@code path} is now, which a later rebuild cannot change: a hard link
     * {@code .versions/<name>.<inode>} beside the real file. A tier rebuild replaces its base image by
     * rename, so disk layers created before keep reading the base they were made from (a layer on a
     * different base is a corrupt filesystem). Falls back to the real path where links are impossible.
     */
    static Path pinned(Path path) throws IOException {
        Path real = path.toRealPath();
        Object inode = Files.getAttribute(real, "unix:ino");
        Path dir = real.resolveSibling(".versions");
        Path pin = dir.resolve(real.getFileName() + "." + inode);
        if (Files.exists(pin)) return pin;
        try {
            Files.createDirectories(dir);
            Files.createLink(pin, real);
            return pin;
        } catch (FileAlreadyExistsException e) {
            return pin; // a concurrent create pinned it
        } catch (IOException | UnsupportedOperationException e) {
            return real;
        }
    }
}

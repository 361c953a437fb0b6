package dev.bhatti.server.volume;

import dev.bhatti.engine.qemu.HostFiles;
import dev.bhatti.server.error.DomainException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Volume files on the host: {@code <data>/volumes/<user id>/<volume id>.ext4}, sparse, readable by the
 * daemon alone (a volume holds a user's data; QEMU gets an open fd, never the path). Each operation
 * leaves either its result or nothing: new files are made beside their target and renamed into place.
 */
public final class VolumeFiles {
    private static final Logger log = LoggerFactory.getLogger(VolumeFiles.class);
    /** The uid and gid that own a new volume's root directory: the guest's user. */
    static final String OWNER = "1000:1000";

    private final Path root;

    public VolumeFiles(Path root) { this.root = root; }

    public Path root() { return root; }

    /** The volume's file; ids are generated hex, never user input. */
    public Path file(String userId, String volumeId) {
        if (!volumeId.matches("[a-z0-9]{1,32}") || !userId.matches("[A-Za-z0-9_-]{1,64}")) {
            throw new IllegalArgumentException("bad volume id " + volumeId);
        }
        return root.resolve(userId).resolve(volumeId + ".ext4");
    }

    /** Where a file is built before it takes its name. */
    static Path partial(Path file) { return file.resolveSibling(file.getFileName() + ".partial"); }

    /** A new, empty ext4 volume of {@code sizeMb}: sparse, so it takes almost nothing until written. */
    void create(Path file, int sizeMb, String label) {
        Path partial = partial(file);
        try {
            prepareDir(file.getParent());
            Files.deleteIfExists(partial);
            Files.createFile(partial, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try (var f = new RandomAccessFile(partial.toFile(), "rw")) {
                f.setLength((long) sizeMb << 20);
            }
            // lazy init: the file reads as zeros, so the kernel need not write the tables (or the journal) now
            run(List.of("mkfs.ext4", "-q", "-F", "-m", "0", "-L", label(label), "-E",
                    "root_owner=" + OWNER + ",lazy_itable_init=1,lazy_journal_init=1", partial.toString()), "mkfs.ext4");
            sync(partial);
            Files.move(partial, file);
        } catch (IOException e) {
            deleteQuietly(partial);
            throw hostFailure("could not create the volume", e, file);
        } catch (RuntimeException e) {
            deleteQuietly(partial);
            throw e;
        }
    }

    /** A copy of {@code from} at {@code to}: reflinked (instant) where the file system can, sparse everywhere. */
    void copy(Path from, Path to) {
        Path partial = partial(to);
        try {
            prepareDir(to.getParent());
            Files.deleteIfExists(partial);
            run(List.of("cp", "--reflink=auto", "--sparse=always", "--", from.toString(), partial.toString()), "copying the volume");
            Files.setPosixFilePermissions(partial, PosixFilePermissions.fromString("rw-------"));
            sync(partial);
            Files.move(partial, to);
        } catch (IOException e) {
            deleteQuietly(partial);
            throw hostFailure("could not copy the volume", e, to);
        } catch (RuntimeException e) {
            deleteQuietly(partial);
            throw e;
        }
    }

    /** Grows the file and its file system to {@code sizeMb}; the volume must be attached nowhere. */
    void grow(Path file, int sizeMb) {
        try {
            check(file, true); // resize2fs wants a file system checked since it was last mounted
            try (var f = new RandomAccessFile(file.toFile(), "rw")) {
                f.setLength((long) sizeMb << 20);
            }
            run(List.of("resize2fs", file.toString()), "resize2fs");
            sync(file);
        } catch (IOException e) {
            throw hostFailure("could not resize the volume", e, file);
        }
    }

    /**
     * Repairs what an unclean stop left (a VM killed with the volume mounted leaves its journal to replay,
     * and a read-only attachment cannot replay it). Only for a volume no VM has open.
     */
    void check(Path file, boolean full) throws IOException {
        // e2fsck -p: 0 clean, 1 errors fixed; 2 fixed but reboot (irrelevant for a file); 4 and up: could not
        var argv = new ArrayList<>(List.of("e2fsck", "-p"));
        if (full) argv.add("-f");
        argv.add(file.toString());
        var p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int code = waitFor(p);
        if (code >= 4) throw new IOException("the file system needs a manual repair (e2fsck: " + out.strip() + ")");
    }

    void delete(Path file) {
        deleteQuietly(partial(file));
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            log.warn("could not remove volume file {}: {} (removed at the next start)", file, e.getMessage());
        }
    }

    /** Bytes the file takes on disk (a sparse file only what was written). */
    static long allocated(Path file) { return HostFiles.usage(file); }

    /** Every volume file on disk with its user id, for reconciling with the store; partial files are removed. */
    List<Path> files() {
        var found = new ArrayList<Path>();
        if (!Files.isDirectory(root)) return found;
        try (var users = Files.list(root)) {
            for (Path dir : users.filter(Files::isDirectory).toList()) {
                try (var files = Files.list(dir)) {
                    for (Path f : files.toList()) {
                        String n = f.getFileName().toString();
                        // what an operation cut short by a crash left: a copy being made, a restore, a backup's staging copy
                        if (n.endsWith(".partial") || n.endsWith(".restore-tmp") || n.endsWith(".snapshot")) deleteQuietly(f);
                        else if (n.endsWith(".ext4")) found.add(f);
                    }
                }
            }
        } catch (IOException e) {
            log.warn("cannot list {}: {}", root, e.getMessage());
        }
        return found;
    }

    /** Makes the directory a new volume file goes in. */
    void prepare(Path file) {
        try {
            prepareDir(file.getParent());
        } catch (IOException e) {
            throw hostFailure("could not make the volumes directory", e, file);
        }
    }

    private void prepareDir(Path dir) throws IOException {
        var owner = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
        if (!Files.isDirectory(root)) Files.createDirectories(root, owner);
        if (!Files.isDirectory(dir)) Files.createDirectories(dir, owner);
    }

    /** An ext4 label holds 16 bytes. */
    private static String label(String name) {
        String l = name.replaceAll("[^A-Za-z0-9._-]", "");
        return l.length() > 16 ? l.substring(0, 16) : l;
    }

    private static void run(List<String> argv, String what) throws IOException {
        var p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (waitFor(p) != 0) throw new IOException(what + " failed: " + out.strip());
    }

    private static int waitFor(Process p) throws IOException {
        try {
            if (!p.waitFor(30, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException(p.info().command().orElse("a helper") + " did not finish in 30 minutes");
            }
            return p.exitValue();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static void sync(Path file) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
            c.force(true);
        }
    }

    static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            log.warn("could not remove {}: {}", p, e.getMessage());
        }
    }

    /** A failure of the host's disk: a full one says so and what to do. */
    private static DomainException hostFailure(String what, IOException e, Path near) {
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        boolean full = msg.contains("No space left") || freeBytes(near) < (16L << 20);
        if (full) return DomainException.unavailable(what + ": the server's disk is full; free space on it and try again");
        return DomainException.failed(what + ": " + msg);
    }

    private static long freeBytes(Path near) {
        try {
            Path p = near;
            while (p != null && !Files.exists(p)) p = p.getParent();
            return p == null ? Long.MAX_VALUE : Files.getFileStore(p).getUsableSpace();
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }
}

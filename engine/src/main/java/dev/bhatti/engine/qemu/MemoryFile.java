package dev.bhatti.engine.qemu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The file a VM's RAM lives in (see {@link dev.bhatti.engine.VmSpec#withMemoryFile}). Readable by the
 * daemon alone (QEMU opens it as root, before it drops to the VM's ids). Its blocks are allocated before
 * QEMU maps it: a page of a shared file mapping that finds no room on a full disk would kill QEMU with
 * SIGBUS, while an allocation that fails up front is an error the caller can handle.
 */
final class MemoryFile {
    private MemoryFile() {}

    /** Thrown when the disk has no room for the whole file. */
    static final class NoSpace extends IOException {
        NoSpace(Path file) {
            super("no space left on the disk holding " + file.getParent() + " for the VM's memory; free some space and try again");
        }
    }

    /** A new, zeroed memory file of {@code memoryMb} MB in place of any old one. */
    static void createFresh(Path file, int memoryMb) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            allocate(file, memoryMb);
        } catch (IOException e) {
            Files.deleteIfExists(file);
            throw e;
        }
    }

    /**
     * Allocates every block of the file that is not yet (a sparse copy leaves its zero pages as holes),
     * keeping its content; the file must exist.
     */
    static void allocate(Path file, int memoryMb) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException("the VM's memory file " + file + " is missing");
        long bytes = (long) memoryMb << 20;
        var p = new ProcessBuilder("fallocate", "-l", Long.toString(bytes), file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                if (out.contains("No space left")) throw new NoSpace(file);
                throw new IOException("could not allocate the VM's memory file: " + out.strip());
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while allocating the VM's memory file", e);
        }
        if (Files.size(file) != bytes) throw new IOException("the VM's memory file " + file + " is not of its memory's size");
    }
}

package dev.bhatti.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import java.nio.file.NoSuchFileException;

/**
 * Keeps everything under the data dir readable by the daemon alone. Memory snapshots hold guest memory
 * (secrets in the clear among it), state.db holds key hashes and sealed secrets, disks hold users' files:
 * none of it is for other local users. The umask covers what the daemon and its children (QEMU, zstd,
 * qemu-img) create from now on; the walk fixes what an older version or a shell redirect left readable.
 */
public final class PrivateDataDir {
    private static final Logger log = LoggerFactory.getLogger(PrivateDataDir.class);
    /** Group and others get nothing; the owner keeps what it has. */
    static final int UMASK = 0077;
    private static final Set<PosixFilePermission> NOT_OWNER = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private PrivateDataDir() {}

    private static boolean isDaemonsGroup(Path p, int daemonGid) throws IOException {
        int gid = (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
        return gid == 0 || gid == daemonGid;
    }

    /** Sets the process's umask (inherited by every process the daemon starts); returns the previous one. */
    public static int restrictUmask() {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle umask = linker.downcallHandle(linker.defaultLookup().find("umask").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT));
            return (int) umask.invokeExact(UMASK);
        } catch (Throwable t) {
            throw new IllegalStateException("cannot set the umask: " + t, t);
        }
    }

    /**
     * Takes group and other permissions off the data dir and everything in it. Symbolic links are not
     * followed (what they point at is not the daemon's to change). Returns how many entries changed.
     */
    public static int tighten(Path dataDir) throws IOException {
        int[] changed = {0};
        int daemonGid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:gid");
        Files.walkFileTree(dataDir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (restrict(dir, daemonGid)) changed[0]++;
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (!attrs.isSymbolicLink() && restrict(file, daemonGid)) changed[0]++;
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                log.warn("cannot check the permissions of {}: {}", file, e.getMessage());
                return FileVisitResult.CONTINUE; // a file that vanished meanwhile (a socket, a staging dir)
            }
        });
        if (changed[0] > 0) log.info("made {} entries under {} private to the daemon (they were readable by others)", changed[0], dataDir);
        return changed[0];
    }

    private static boolean restrict(Path p, int daemonGid) throws IOException {
        Set<PosixFilePermission> perms;
        boolean jailDir;
        try {
            perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
            jailDir = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) && !isDaemonsGroup(p, daemonGid);
        } catch (NoSuchFileException e) {
            return false;
        }
        var taken = EnumSet.copyOf(NOT_OWNER);
        // A VM's directory is the root of its jailed QEMU: its group (the VM's own) may enter it, nothing more.
        if (jailDir) taken.remove(PosixFilePermission.GROUP_EXECUTE);
        if (!perms.removeAll(taken)) return false;
        Files.setPosixFilePermissions(p, perms);
        return true;
    }
}

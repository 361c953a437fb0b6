package dev.bhatti.server.image.rootfs;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An image's root filesystem as an ext4 file, made by e2fsprogs from an extracted tree
 * ({@code mkfs.ext4 -d}: no root needed, no loop mount, owners, modes and links kept). Sized to the
 * content plus headroom; a sandbox's own disk can be larger.
 */
public final class Ext4Image {
    /** Room for the filesystem's own metadata and a little growth, beyond the content. */
    static final long MIN_HEADROOM = 64L << 20;

    private Ext4Image() {}

    /** Builds {@code image} from {@code tree}; returns its size in bytes. A failed build leaves no file. */
    public static long build(Path tree, Path image) throws IOException, InterruptedException {
        long content = usage(tree);
        long size = roundUp(content + Math.max(MIN_HEADROOM, content / 4), 1L << 20);
        Path partial = image.resolveSibling(image.getFileName() + ".partial");
        try {
            try (var f = new RandomAccessFile(partial.toFile(), "rw")) {
                f.setLength(size); // sparse: blocks are allocated as mkfs writes them
            }
            run(List.of("mkfs.ext4", "-q", "-F", "-L", "rootfs", "-E", "root_owner=0:0", "-d", tree.toString(), partial.toString()));
            Files.move(partial, image, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return size;
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    /** Bytes the tree's files take, counted by their sizes (hard links once would be less; this errs large). */
    static long usage(Path tree) throws IOException {
        var total = new AtomicLong();
        Files.walkFileTree(tree, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                total.addAndGet(Math.max(attrs.size(), 4096));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                total.addAndGet(4096);
                return FileVisitResult.CONTINUE;
            }
        });
        return total.get();
    }

    /**
     * Makes a file system copied from a running machine clean: its journal replayed and its counts (free
     * blocks among them, which the superblock of a mounted file system keeps only loosely) made exact.
     * Fails when e2fsck leaves errors it could not correct.
     */
    public static void repair(Path image) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("e2fsck", "-fy", image.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException("e2fsck did not finish");
        }
        // 0: clean, 1: errors corrected; 4 and up: errors left or e2fsck failed
        if (p.exitValue() >= 4) throw new IOException("the file system is damaged beyond e2fsck (exit " + p.exitValue() + "): " + out.strip());
    }

    /**
     * The bytes an ext4 file system holds in use, from its superblock (blocks minus free blocks): what the
     * image costs on disk, not the length of its sparse file. 0 when {@code image} is not ext4.
     */
    public static long usedBytes(Path image) {
        try (var f = new RandomAccessFile(image.toFile(), "r")) {
            byte[] sb = new byte[1024];
            f.seek(1024);
            f.readFully(sb);
            var b = ByteBuffer.wrap(sb).order(ByteOrder.LITTLE_ENDIAN);
            if ((b.getShort(0x38) & 0xffff) != 0xEF53) return 0;
            long blocks = (b.getInt(0x04) & 0xffffffffL) | ((long) (b.getInt(0x150) & 0xffffffffL) << 32);
            long free = (b.getInt(0x0C) & 0xffffffffL) | ((long) (b.getInt(0x158) & 0xffffffffL) << 32);
            boolean bit64 = (b.getInt(0x60) & 0x80) != 0;
            if (!bit64) {
                blocks &= 0xffffffffL;
                free &= 0xffffffffL;
            }
            return (blocks - free) * (1024L << b.getInt(0x18));
        } catch (IOException e) {
            return 0;
        }
    }

    static long roundUp(long n, long unit) { return (n + unit - 1) / unit * unit; }

    private static void run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException(cmd.getFirst() + " did not finish");
        }
        if (p.exitValue() != 0) throw new IOException(cmd.getFirst() + " failed: " + out.strip());
    }
}

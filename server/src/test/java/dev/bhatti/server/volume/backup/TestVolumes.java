package dev.bhatti.server.volume.backup;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.random.RandomGenerator;

/** Volume-like files for the backup tests: sparse, with random bytes where asked. */
final class TestVolumes {

    private TestVolumes() {}

    static Path sparse(Path file, long size) throws IOException {
        try (var raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(size);
        }
        return file;
    }

    static void writeRandom(Path file, long offset, int len, RandomGenerator random) throws IOException {
        byte[] b = new byte[len];
        random.nextBytes(b);
        try (var c = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(b);
            while (buf.hasRemaining()) c.write(buf, offset + buf.position());
        }
    }

    static String sha256(Path file) throws Exception {
        var md = MessageDigest.getInstance("SHA-256");
        try (var c = FileChannel.open(file)) {
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            while (c.read(buf) >= 0) {
                buf.flip();
                md.update(buf);
                buf.clear();
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** The bytes the file system allocated for the file (st_blocks × 512): what a hole does not cost. */
    static long allocated(Path file) throws Exception {
        var p = new ProcessBuilder("stat", "-c", "%b", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        if (p.waitFor() != 0) throw new IOException("stat failed: " + out);
        return Long.parseLong(out) * 512;
    }

    static long size(Path file) throws IOException { return Files.size(file); }
}

package dev.bhatti.engine.qemu;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Keeps a VM's serial console log bounded: the guest (and anyone root in it) can write to its console
 * without end, and the host's disk must not pay for it. Past {@link #MAX_BYTES} the file's tail moves to
 * {@code console.log.1} and the file restarts empty; QEMU appends, so it writes on at the new end.
 */
final class ConsoleLogs {
    static final long MAX_BYTES = 1024 * 1024;
    static final int KEEP_TAIL = 64 * 1024;

    private ConsoleLogs() {}

    /** Rotates {@code log} if it grew past the limit; returns whether it did. */
    static boolean rotateIfLarge(Path log) {
        try {
            if (!Files.exists(log) || Files.size(log) <= MAX_BYTES) return false;
            try (FileChannel ch = FileChannel.open(log, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                long size = ch.size();
                ByteBuffer tail = ByteBuffer.allocate((int) Math.min(KEEP_TAIL, size));
                ch.read(tail, size - tail.capacity());
                Path previous = log.resolveSibling(log.getFileName() + ".1");
                Path tmp = log.resolveSibling(log.getFileName() + ".1.tmp");
                Files.write(tmp, tail.array());
                Files.move(tmp, previous, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                ch.truncate(0);
            }
            return true;
        } catch (IOException e) {
            return false; // the VM is going away; its directory with it
        }
    }
}

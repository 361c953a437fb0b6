package dev.bhatti.bench;

import java.util.Random;

/** File sizes in labels and the content written at each size. */
final class Sizes {
    private Sizes() {}

    static String label(int bytes) {
        if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) return bytes / (1024 * 1024) + " MB";
        if (bytes >= 1024 && bytes % 1024 == 0) return bytes / 1024 + " KB";
        return bytes + " B";
    }

    /** Incompressible bytes, the same for every run. */
    static byte[] content(int bytes) {
        byte[] b = new byte[bytes];
        new Random(bytes).nextBytes(b);
        return b;
    }
}

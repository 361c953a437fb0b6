package dev.bhatti.server.image;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Fails once more than {@code max} bytes were read or skipped: a body of unknown length must not fill the disk. */
final class CappedInputStream extends FilterInputStream {
    /** The cap was passed; its message is the user's. */
    static final class TooLarge extends IOException {
        TooLarge(String message) { super(message); }
    }

    private final long max;
    private long count;

    CappedInputStream(InputStream in, long max) {
        super(in);
        this.max = max;
    }

    /** Re-read bytes would count twice. */
    @Override
    public boolean markSupported() { return false; }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) counted(1);
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) counted(n);
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        long skipped = super.skip(n);
        counted(skipped);
        return skipped;
    }

    private void counted(long n) throws TooLarge {
        count += n;
        if (count > max) throw new TooLarge("archive larger than " + size(max));
    }

    static String size(long bytes) { return bytes >= 1 << 20 ? (bytes >> 20) + " MB" : bytes + " bytes"; }
}

package dev.bhatti.server.image.layers;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Watches a tar stream on its way to the tar reader and keeps the exact bytes of each PAX header's
 * {@code SCHILY.xattr.*} values, which the reader decodes as UTF-8 (and so loses any byte that is not
 * valid UTF-8). The bytes pass through unchanged; {@link #takeXattrs} hands over what the last PAX
 * header held, for the entry the reader returns next.
 */
final class PaxXattrTap extends FilterInputStream {
    private static final int BLOCK = 512;
    /** PAX headers larger than this are not an image layer's. */
    private static final int MAX_PAX = 1 << 20;

    private final byte[] header = new byte[BLOCK];
    private int headerFill;
    /** Bytes of the current entry's data (and padding) still to pass before the next header. */
    private long dataLeft;
    private boolean capturing;
    private byte[] pax;
    private int paxFill;
    private long paxSize;
    private Map<String, byte[]> last = Map.of();

    PaxXattrTap(InputStream in) { super(in); }

    /** The xattrs of the last PAX header seen, by attribute name; emptied by the call. */
    Map<String, byte[]> takeXattrs() {
        Map<String, byte[]> x = last;
        last = Map.of();
        return x;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        for (int i = 0; i < n; i++) see(b[off + i]);
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buf = new byte[8192];
        long done = 0;
        while (done < n) {
            int r = read(buf, 0, (int) Math.min(buf.length, n - done));
            if (r < 0) break;
            done += r;
        }
        return done;
    }

    private void see(byte b) throws IOException {
        if (dataLeft > 0) {
            if (capturing && paxFill < paxSize) pax[paxFill++] = b;
            if (--dataLeft == 0 && capturing) {
                last = parse(pax, paxFill);
                capturing = false;
            }
            return;
        }
        header[headerFill++] = b;
        if (headerFill < BLOCK) return;
        headerFill = 0;
        if (allZero(header)) return; // the end-of-archive blocks
        long size = octal(header, 124, 12);
        char type = (char) header[156];
        dataLeft = (size + BLOCK - 1) / BLOCK * BLOCK;
        if (type == 'x' && size > 0) {
            if (size > MAX_PAX) throw new IOException("a PAX header of " + size + " bytes");
            capturing = true;
            pax = new byte[(int) size];
            paxFill = 0;
            paxSize = size;
        }
    }

    /** Records {@code "<length> <key>=<value>\n"}; the value is raw bytes. */
    static Map<String, byte[]> parse(byte[] data, int len) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        int pos = 0;
        while (pos < len) {
            int space = pos;
            while (space < len && data[space] != ' ') space++;
            int recLen;
            try {
                recLen = Integer.parseInt(new String(data, pos, space - pos, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw new IOException("a malformed PAX record");
            }
            if (recLen <= 0 || pos + recLen > len) throw new IOException("a malformed PAX record");
            int eq = space + 1;
            while (eq < pos + recLen && data[eq] != '=') eq++;
            String key = new String(data, space + 1, eq - space - 1, StandardCharsets.UTF_8);
            if (key.startsWith("SCHILY.xattr.")) {
                byte[] value = new byte[pos + recLen - 1 - (eq + 1)]; // without the trailing newline
                System.arraycopy(data, eq + 1, value, 0, value.length);
                out.put(key.substring("SCHILY.xattr.".length()), value);
            }
            pos += recLen;
        }
        return out;
    }

    private static long octal(byte[] h, int off, int len) {
        long v = 0;
        if ((h[off] & 0x80) != 0) { // base-256, for sizes beyond octal's 8 GiB
            for (int i = off + 1; i < off + len; i++) v = (v << 8) | (h[i] & 0xff);
            return v;
        }
        for (int i = off; i < off + len; i++) {
            byte c = h[i];
            if (c == 0 || c == ' ') {
                if (v > 0) break;
                continue;
            }
            if (c < '0' || c > '7') break;
            v = v * 8 + (c - '0');
        }
        return v;
    }

    private static boolean allZero(byte[] h) {
        for (byte x : h) if (x != 0) return false;
        return true;
    }
}

package dev.bhatti.engine;

/**
 * Which part of a file to read: from line {@code offsetLine} (1-based), at most {@code limitLines}
 * lines and {@code maxBytes} bytes; zero means no bound. {@link #ALL} reads everything.
 */
public record ReadRange(long offsetLine, long limitLines, long maxBytes) {
    public static final ReadRange ALL = new ReadRange(0, 0, 0);

    public ReadRange {
        if (offsetLine < 0 || limitLines < 0 || maxBytes < 0) throw new IllegalArgumentException("range values must be >= 0");
    }

    public boolean whole() { return offsetLine == 0 && limitLines == 0 && maxBytes == 0; }
}

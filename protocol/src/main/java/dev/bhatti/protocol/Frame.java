package dev.bhatti.protocol;

/**
 * One unit on the wire: {@code [u32 length][u8 type][u32 stream][payload]}, big-endian, where length
 * counts type, stream and payload. A frame is always written with one write call so that concurrent
 * writers cannot interleave.
 */
public record Frame(int type, int stream, byte[] payload) {

    public static final int HEADER_BYTES = 4 + 1 + 4;
    /** Largest payload; data is chunked below this so one frame never hogs the channel. */
    public static final int MAX_PAYLOAD = 1 << 20;

    public Frame {
        if (type < 0 || type > 0xff) throw new IllegalArgumentException("frame type out of range: " + type);
        if (payload.length > MAX_PAYLOAD) throw new IllegalArgumentException("payload too large: " + payload.length);
    }
}

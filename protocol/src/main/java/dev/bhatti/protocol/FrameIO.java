package dev.bhatti.protocol;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/** Reads and writes frames on byte streams. Reading is single-threaded; writes are serialised. */
public final class FrameIO implements AutoCloseable {

    private final DataInputStream in;
    private final OutputStream out;
    private final Object writeLock = new Object();

    public FrameIO(InputStream in, OutputStream out) {
        this.in = new DataInputStream(in);
        this.out = out;
    }

    /** Next frame, or null at a clean end of stream between frames. */
    public Frame read() throws IOException {
        int length;
        try {
            length = in.readInt();
        } catch (EOFException e) {
            return null;
        }
        if (length < 5 || length > Frame.MAX_PAYLOAD + 5) {
            throw new ProtocolException("bad frame length " + length);
        }
        int type = in.readUnsignedByte();
        int stream = in.readInt();
        byte[] payload = in.readNBytes(length - 5);
        if (payload.length != length - 5) throw new EOFException("stream ended inside a frame");
        return new Frame(type, stream, payload);
    }

    public void write(Frame frame) throws IOException {
        var buf = ByteBuffer.allocate(Frame.HEADER_BYTES + frame.payload().length);
        buf.putInt(5 + frame.payload().length).put((byte) frame.type()).putInt(frame.stream()).put(frame.payload());
        synchronized (writeLock) {
            out.write(buf.array());
            out.flush();
        }
    }

    /** Closes both directions; a blocked reader wakes with an exception or end of stream. */
    @Override
    public void close() {
        try { out.close(); } catch (IOException ignored) { }
        try { in.close(); } catch (IOException ignored) { }
    }
}

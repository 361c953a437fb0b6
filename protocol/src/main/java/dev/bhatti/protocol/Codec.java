package dev.bhatti.protocol;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Turns messages into frame payloads and back. Unknown frame types decode to empty (skipped). */
public final class Codec {

    public static final int PROTOCOL_VERSION = 1;

    static final int HELLO = 0x01, PING = 0x02, PONG = 0x03;
    static final int EXEC_REQUEST = 0x10, DATA = 0x11, EOF = 0x12, WINDOW = 0x13, KILL = 0x14,
            EXIT = 0x15, ERROR = 0x16, DETACH_REQUEST = 0x17, DETACHED = 0x18;

    /** Guards against hostile lengths inside a payload (a frame is at most 1 MiB anyway). */
    private static final int MAX_ITEMS = 65_536;

    private Codec() {}

    public static Frame encode(int stream, Message message) {
        var bytes = new ByteArrayOutputStream(64);
        var out = new DataOutputStream(bytes);
        try {
            int type = switch (message) {
                case Message.Hello h -> { out.writeShort(h.version()); writeString(out, h.software()); yield HELLO; }
                case Message.Ping p -> { out.writeLong(p.nonce()); yield PING; }
                case Message.Pong p -> { out.writeLong(p.nonce()); yield PONG; }
                case Message.ExecRequest r -> {
                    writeStrings(out, r.argv());
                    writeMap(out, r.env());
                    writeString(out, r.cwd());
                    writeString(out, r.user());
                    out.writeLong(r.timeoutMillis());
                    out.writeBoolean(r.stdin());
                    yield EXEC_REQUEST;
                }
                case Message.DetachRequest r -> {
                    writeStrings(out, r.argv());
                    writeMap(out, r.env());
                    writeString(out, r.cwd());
                    writeString(out, r.user());
                    writeString(out, r.outputFile());
                    yield DETACH_REQUEST;
                }
                case Message.Detached d -> { out.writeLong(d.pid()); writeString(out, d.outputFile()); yield DETACHED; }
                case Message.Data d -> { out.writeByte(d.channel().ordinal()); out.write(d.bytes()); yield DATA; }
                case Message.Eof e -> { out.writeByte(e.channel().ordinal()); yield EOF; }
                case Message.Window w -> { out.writeInt(w.bytes()); yield WINDOW; }
                case Message.Kill k -> { out.writeInt(k.signal()); yield KILL; }
                case Message.Exit x -> { out.writeInt(x.exitCode()); out.writeBoolean(x.timedOut()); yield EXIT; }
                case Message.Error e -> { writeString(out, e.code()); writeString(out, e.message()); yield ERROR; }
            };
            return new Frame(type, stream, bytes.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // cannot happen on a byte array
        }
    }

    /**
     * Decodes a frame. Returns empty for a type this side does not know, so newer peers can add types.
     *
     * @throws ProtocolException if a known type carries a malformed payload
     */
    public static Optional<Message> decode(Frame frame) throws ProtocolException {
        var in = new DataInputStream(new ByteArrayInputStream(frame.payload()));
        try {
            Message m = switch (frame.type()) {
                case HELLO -> new Message.Hello(in.readUnsignedShort(), readString(in));
                case PING -> new Message.Ping(in.readLong());
                case PONG -> new Message.Pong(in.readLong());
                case EXEC_REQUEST -> new Message.ExecRequest(readStrings(in), readMap(in), readString(in), readString(in),
                        in.readLong(), in.readBoolean());
                case DETACH_REQUEST -> new Message.DetachRequest(readStrings(in), readMap(in), readString(in), readString(in),
                        readString(in));
                case DETACHED -> new Message.Detached(in.readLong(), readString(in));
                case DATA -> new Message.Data(channel(in.readUnsignedByte()), in.readAllBytes());
                case EOF -> new Message.Eof(channel(in.readUnsignedByte()));
                case WINDOW -> {
                    int bytes = in.readInt();
                    if (bytes <= 0) throw new ProtocolException("window update must be positive: " + bytes);
                    yield new Message.Window(bytes);
                }
                case KILL -> new Message.Kill(in.readInt());
                case EXIT -> new Message.Exit(in.readInt(), in.readBoolean());
                case ERROR -> new Message.Error(readString(in), readString(in));
                default -> null;
            };
            if (m != null && in.available() > 0 && frame.type() != DATA) {
                throw new ProtocolException("trailing bytes in frame type " + frame.type());
            }
            return Optional.ofNullable(m);
        } catch (EOFException e) {
            throw new ProtocolException("truncated payload in frame type " + frame.type());
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("invalid frame type " + frame.type() + ": " + e.getMessage());
        } catch (IOException e) {
            throw new ProtocolException("unreadable payload: " + e.getMessage());
        }
    }

    private static Message.Channel channel(int ordinal) throws ProtocolException {
        var all = Message.Channel.values();
        if (ordinal >= all.length) throw new ProtocolException("unknown channel " + ordinal);
        return all[ordinal];
    }

    private static int count(int n) throws ProtocolException {
        if (n < 0 || n > MAX_ITEMS) throw new ProtocolException("bad item count " + n);
        return n;
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static void writeStrings(DataOutputStream out, List<String> list) throws IOException {
        out.writeInt(list.size());
        for (String s : list) writeString(out, s);
    }

    private static void writeMap(DataOutputStream out, Map<String, String> map) throws IOException {
        out.writeInt(map.size());
        for (var e : map.entrySet()) { writeString(out, e.getKey()); writeString(out, e.getValue()); }
    }

    private static Map<String, String> readMap(DataInputStream in) throws IOException {
        int n = count(in.readInt());
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) map.put(readString(in), readString(in));
        return map;
    }

    private static String readString(DataInputStream in) throws IOException {
        int len = in.readInt();
        if (len < 0 || len > in.available()) throw new ProtocolException("bad string length " + len);
        return new String(in.readNBytes(len), StandardCharsets.UTF_8);
    }

    private static List<String> readStrings(DataInputStream in) throws IOException {
        int n = count(in.readInt());
        var list = new ArrayList<String>(Math.min(n, 64));
        for (int i = 0; i < n; i++) list.add(readString(in));
        return list;
    }
}

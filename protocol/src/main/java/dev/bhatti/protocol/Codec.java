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

    static final int HELLO = 0x01, PING = 0x02, PONG = 0x03, HELLO_REPLY = 0x04;
    static final int EXEC_REQUEST = 0x10, DATA = 0x11, EOF = 0x12, WINDOW = 0x13, KILL = 0x14,
            EXIT = 0x15, ERROR = 0x16, DETACH_REQUEST = 0x17, DETACHED = 0x18;
    static final int FILE_READ = 0x20, FILE_WRITE = 0x21, FILE_STAT = 0x22, FILE_LIST_REQUEST = 0x23, FILE_INFO = 0x24,
            FILE_LIST = 0x25, FILE_WATCH = 0x26;
    static final int SESSION_START = 0x30, SESSION_ATTACH = 0x31, SESSION_INFO = 0x32, RESIZE = 0x33, DETACH = 0x34,
            SESSION_LIST_REQUEST = 0x35, SESSION_LIST = 0x36, SESSION_KILL = 0x37;
    static final int FORWARD_OPEN = 0x40, FORWARDED = 0x41;
    static final int RESUMED = 0x50, MOUNT = 0x51;

    /** Guards against hostile lengths inside a payload (a frame is at most 1 MiB anyway). */
    private static final int MAX_ITEMS = 65_536;

    private Codec() {}

    public static Frame encode(int stream, Message message) {
        var bytes = new ByteArrayOutputStream(64);
        var out = new DataOutputStream(bytes);
        try {
            int type = switch (message) {
                case Message.Hello h -> { out.writeShort(h.version()); writeString(out, h.software()); yield HELLO; }
                case Message.HelloReply h -> { out.writeShort(h.version()); writeString(out, h.software()); yield HELLO_REPLY; }
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
                case Message.FileRead r -> {
                    writeString(out, r.path());
                    out.writeLong(r.offsetLine());
                    out.writeLong(r.limitLines());
                    out.writeLong(r.maxBytes());
                    yield FILE_READ;
                }
                case Message.FileWrite w -> { writeString(out, w.path()); out.writeInt(w.mode()); writeString(out, w.user()); yield FILE_WRITE; }
                case Message.FileStat st -> { writeString(out, st.path()); yield FILE_STAT; }
                case Message.FileListRequest l -> { writeString(out, l.path()); yield FILE_LIST_REQUEST; }
                case Message.FileWatch w -> { writeString(out, w.path()); yield FILE_WATCH; }
                case Message.FileInfo i -> { writeFileInfo(out, i); yield FILE_INFO; }
                case Message.FileList l -> {
                    out.writeInt(l.entries().size());
                    for (var i : l.entries()) writeFileInfo(out, i);
                    out.writeLong(l.total());
                    yield FILE_LIST;
                }
                case Message.SessionStart r -> {
                    writeString(out, r.id());
                    writeStrings(out, r.argv());
                    writeMap(out, r.env());
                    writeString(out, r.cwd());
                    writeString(out, r.user());
                    out.writeBoolean(r.tty());
                    out.writeInt(r.rows());
                    out.writeInt(r.cols());
                    out.writeLong(r.maxIdleSeconds());
                    yield SESSION_START;
                }
                case Message.SessionAttach a -> { writeString(out, a.sessionId()); out.writeBoolean(a.ifDetached()); yield SESSION_ATTACH; }
                case Message.SessionInfo i -> { writeSessionInfo(out, i); yield SESSION_INFO; }
                case Message.Resize r -> { out.writeInt(r.rows()); out.writeInt(r.cols()); yield RESIZE; }
                case Message.Detach d -> DETACH;
                case Message.SessionListRequest r -> SESSION_LIST_REQUEST;
                case Message.SessionList l -> {
                    out.writeInt(l.sessions().size());
                    for (var i : l.sessions()) writeSessionInfo(out, i);
                    yield SESSION_LIST;
                }
                case Message.SessionKill k -> { writeString(out, k.sessionId()); out.writeInt(k.signal()); yield SESSION_KILL; }
                case Message.ForwardOpen f -> { out.writeInt(f.port()); yield FORWARD_OPEN; }
                case Message.Forwarded f -> FORWARDED;
                case Message.Resumed r -> {
                    out.writeLong(r.epochMillis());
                    writeString(out, r.hostname());
                    out.writeInt(r.entropy().length);
                    out.write(r.entropy());
                    writeString(out, r.network());
                    yield RESUMED;
                }
                case Message.Mount m -> { writeString(out, m.serial()); writeString(out, m.path()); out.writeBoolean(m.readOnly()); yield MOUNT; }
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
                case HELLO_REPLY -> new Message.HelloReply(in.readUnsignedShort(), readString(in));
                case PING -> new Message.Ping(in.readLong());
                case PONG -> new Message.Pong(in.readLong());
                case EXEC_REQUEST -> new Message.ExecRequest(readStrings(in), readMap(in), readString(in), readString(in),
                        in.readLong(), in.readBoolean());
                case DETACH_REQUEST -> new Message.DetachRequest(readStrings(in), readMap(in), readString(in), readString(in),
                        readString(in));
                case DETACHED -> new Message.Detached(in.readLong(), readString(in));
                case FILE_READ -> new Message.FileRead(readString(in), in.readLong(), in.readLong(), in.readLong());
                case FILE_WRITE -> new Message.FileWrite(readString(in), in.readInt(), readString(in));
                case FILE_STAT -> new Message.FileStat(readString(in));
                case FILE_LIST_REQUEST -> new Message.FileListRequest(readString(in));
                case FILE_WATCH -> new Message.FileWatch(readString(in));
                case FILE_INFO -> readFileInfo(in);
                case SESSION_START -> new Message.SessionStart(readString(in), readStrings(in), readMap(in), readString(in), readString(in),
                        in.readBoolean(), in.readInt(), in.readInt(), in.readLong());
                case SESSION_ATTACH -> new Message.SessionAttach(readString(in), in.readBoolean());
                case SESSION_INFO -> readSessionInfo(in);
                case RESIZE -> new Message.Resize(in.readInt(), in.readInt());
                case DETACH -> new Message.Detach();
                case SESSION_LIST_REQUEST -> new Message.SessionListRequest();
                case SESSION_LIST -> {
                    int n = count(in.readInt());
                    var list = new ArrayList<Message.SessionInfo>(Math.min(n, 64));
                    for (int i = 0; i < n; i++) list.add(readSessionInfo(in));
                    yield new Message.SessionList(list);
                }
                case FORWARD_OPEN -> new Message.ForwardOpen(in.readInt());
                case FORWARDED -> new Message.Forwarded();
                case RESUMED -> {
                    long millis = in.readLong();
                    String host = readString(in);
                    int n = in.readInt();
                    if (n < 0 || n > 4096) throw new ProtocolException("bad entropy length " + n);
                    byte[] entropy = in.readNBytes(n);
                    if (entropy.length != n) throw new EOFException();
                    // added later: an older host does not send it
                    String network = in.available() > 0 ? readString(in) : "";
                    yield new Message.Resumed(millis, host, entropy, network);
                }
                case SESSION_KILL -> new Message.SessionKill(readString(in), in.readInt());
                case MOUNT -> new Message.Mount(readString(in), readString(in), in.readBoolean());
                case FILE_LIST -> {
                    int n = count(in.readInt());
                    var entries = new ArrayList<Message.FileInfo>(Math.min(n, 1024));
                    for (int i = 0; i < n; i++) entries.add(readFileInfo(in));
                    yield new Message.FileList(entries, in.readLong());
                }
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

    private static void writeSessionInfo(DataOutputStream out, Message.SessionInfo i) throws IOException {
        writeString(out, i.id());
        writeStrings(out, i.argv());
        out.writeBoolean(i.tty());
        out.writeBoolean(i.running());
        out.writeInt(i.exitCode());
        out.writeBoolean(i.attached());
        out.writeLong(i.createdAtMillis());
    }

    private static Message.SessionInfo readSessionInfo(DataInputStream in) throws IOException {
        return new Message.SessionInfo(readString(in), readStrings(in), in.readBoolean(), in.readBoolean(), in.readInt(),
                in.readBoolean(), in.readLong());
    }

    private static void writeFileInfo(DataOutputStream out, Message.FileInfo i) throws IOException {
        writeString(out, i.name());
        out.writeLong(i.size());
        out.writeInt(i.mode());
        writeString(out, i.type());
        out.writeLong(i.mtimeMillis());
    }

    private static Message.FileInfo readFileInfo(DataInputStream in) throws IOException {
        return new Message.FileInfo(readString(in), in.readLong(), in.readInt(), readString(in), in.readLong());
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

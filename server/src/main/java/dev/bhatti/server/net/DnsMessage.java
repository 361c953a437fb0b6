package dev.bhatti.server.net;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.nio.charset.StandardCharsets;

/**
 * The little of DNS (RFC 1035) the resolver needs: a query's single question, answers for sibling
 * sandboxes, and the A records of an upstream reply. Everything from the wire is bounds-checked;
 * anything malformed is empty, never an exception.
 */
public final class DnsMessage {
    public static final int TYPE_A = 1;
    public static final int TYPE_PTR = 12;
    public static final int TYPE_AAAA = 28;
    public static final int TYPE_ANY = 255;
    static final int CLASS_IN = 1;
    static final int RCODE_SERVFAIL = 2;
    static final int RCODE_NXDOMAIN = 3;

    private DnsMessage() {}

    /** A query's question: {@code name} lower-case without the final dot. */
    public record Question(int id, String name, int type, int qclass, int end, boolean recursionDesired) {}

    /** An A record of a reply. */
    public record Address(String name, String ip, long ttl) {}

    public static Optional<Question> question(byte[] packet, int length) {
        if (length < 12 || length > packet.length) return Optional.empty();
        var b = ByteBuffer.wrap(packet, 0, length);
        int id = b.getShort(0) & 0xffff;
        int flags = b.getShort(2) & 0xffff;
        if ((flags & 0x8000) != 0 || ((flags >> 11) & 0xf) != 0) return Optional.empty(); // a reply, or not a QUERY
        if ((b.getShort(4) & 0xffff) != 1) return Optional.empty();
        var name = new StringBuilder();
        int end = readName(packet, length, 12, name, 0);
        if (end < 0 || end + 4 > length) return Optional.empty();
        int type = b.getShort(end) & 0xffff;
        int qclass = b.getShort(end + 2) & 0xffff;
        return Optional.of(new Question(id, name.toString().toLowerCase(Locale.ROOT), type, qclass, end + 4, (flags & 0x0100) != 0));
    }

    /**
     * The answer to {@code q} (asked in {@code query}) with {@code ips} as A records, TTL {@code ttl};
     * with no ips it is an empty NOERROR answer (the name exists, not with that type).
     */
    public static byte[] answer(byte[] query, Question q, List<String> ips, int ttl) {
        var out = new ByteArrayOutputStream();
        header(out, q, 0, ips.size());
        out.write(query, 12, q.end() - 12); // the question, as asked
        for (String ip : ips) {
            out.write(0xc0);
            out.write(12); // pointer to the question's name
            u16(out, TYPE_A);
            u16(out, CLASS_IN);
            u32(out, ttl);
            u16(out, 4);
            int a = Ipv4.parse(ip);
            u32(out, a);
        }
        return out.toByteArray();
    }

    /** A reply with only a result code (and the question), e.g. SERVFAIL when no upstream answered. */
    public static byte[] error(byte[] query, Question q, int rcode) {
        var out = new ByteArrayOutputStream();
        header(out, q, rcode, 0);
        out.write(query, 12, q.end() - 12);
        return out.toByteArray();
    }

    /** The A records in a reply's answer section (following compression pointers). */
    public static List<Address> addresses(byte[] packet, int length) {
        var list = new ArrayList<Address>();
        if (length < 12 || length > packet.length) return list;
        var b = ByteBuffer.wrap(packet, 0, length);
        int qd = b.getShort(4) & 0xffff;
        int an = b.getShort(6) & 0xffff;
        int p = 12;
        for (int i = 0; i < qd; i++) {
            p = readName(packet, length, p, new StringBuilder(), 0);
            if (p < 0 || p + 4 > length) return list;
            p += 4;
        }
        for (int i = 0; i < an; i++) {
            var name = new StringBuilder();
            p = readName(packet, length, p, name, 0);
            if (p < 0 || p + 10 > length) return list;
            int type = b.getShort(p) & 0xffff;
            int cls = b.getShort(p + 2) & 0xffff;
            long ttl = b.getInt(p + 4) & 0xffffffffL;
            int rdlen = b.getShort(p + 8) & 0xffff;
            p += 10;
            if (p + rdlen > length) return list;
            if (type == TYPE_A && cls == CLASS_IN && rdlen == 4) {
                list.add(new Address(name.toString().toLowerCase(Locale.ROOT), Ipv4.format(b.getInt(p)), ttl));
            }
            p += rdlen;
        }
        return list;
    }

    /** Reads a name at {@code p} into {@code name}; returns the offset after it in the packet, or -1. */
    private static int readName(byte[] packet, int length, int p, StringBuilder name, int depth) {
        if (depth > 16) return -1; // a pointer loop
        while (true) {
            if (p >= length) return -1;
            int len = packet[p] & 0xff;
            if (len == 0) return p + 1;
            if ((len & 0xc0) == 0xc0) {
                if (p + 1 >= length) return -1;
                int target = ((len & 0x3f) << 8) | (packet[p + 1] & 0xff);
                if (target >= p) return -1; // pointers only go backwards
                return readName(packet, length, target, name, depth + 1) < 0 ? -1 : p + 2;
            }
            if ((len & 0xc0) != 0 || p + 1 + len > length) return -1;
            if (name.length() > 0) name.append('.');
            for (int i = 0; i < len; i++) {
                int c = packet[p + 1 + i] & 0xff;
                name.append(c > 32 && c < 127 && c != '.' ? (char) c : '?');
            }
            if (name.length() > 253) return -1;
            p += 1 + len;
        }
    }

    /** The answer to a reverse question {@code q}: one PTR record naming {@code target} (a host name). */
    public static byte[] pointerAnswer(byte[] query, Question q, String target, int ttl) {
        var rdata = new ByteArrayOutputStream();
        for (String label : target.split("\\.")) {
            byte[] l = label.getBytes(StandardCharsets.US_ASCII);
            if (l.length == 0 || l.length > 63) throw new IllegalArgumentException("bad label in " + target);
            rdata.write(l.length);
            rdata.write(l, 0, l.length);
        }
        rdata.write(0);
        var out = new ByteArrayOutputStream();
        header(out, q, 0, 1);
        out.write(query, 12, q.end() - 12);
        out.write(0xc0);
        out.write(12);
        u16(out, TYPE_PTR);
        u16(out, CLASS_IN);
        u32(out, ttl);
        u16(out, rdata.size());
        out.write(rdata.toByteArray(), 0, rdata.size());
        return out.toByteArray();
    }

    /** The IPv4 address a reverse name ({@code 4.3.2.1.in-addr.arpa}) asks about, if it is one. */
    public static Optional<String> reverseAddress(String name) {
        if (!name.endsWith(".in-addr.arpa")) return Optional.empty();
        String[] parts = name.substring(0, name.length() - ".in-addr.arpa".length()).split("\\.");
        if (parts.length != 4) return Optional.empty();
        String ip = parts[3] + "." + parts[2] + "." + parts[1] + "." + parts[0];
        return Ipv4.valid(ip) ? Optional.of(ip) : Optional.empty();
    }

    private static void header(ByteArrayOutputStream out, Question q, int rcode, int answers) {
        u16(out, q.id());
        // QR, AA, RD as asked, RA
        u16(out, 0x8000 | 0x0400 | (q.recursionDesired() ? 0x0100 : 0) | 0x0080 | rcode);
        u16(out, 1);
        u16(out, answers);
        u16(out, 0);
        u16(out, 0);
    }

    private static void u16(ByteArrayOutputStream out, int v) {
        out.write(v >>> 8);
        out.write(v);
    }

    private static void u32(ByteArrayOutputStream out, long v) {
        u16(out, (int) (v >>> 16) & 0xffff);
        u16(out, (int) v & 0xffff);
    }
}

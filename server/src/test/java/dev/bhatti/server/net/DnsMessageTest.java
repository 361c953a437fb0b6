package dev.bhatti.server.net;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DnsMessageTest {

    /** A standard query as glibc sends it. */
    static byte[] query(int id, String name, int type) {
        var out = new ByteArrayOutputStream();
        out.write(id >> 8);
        out.write(id);
        out.write(0x01); // RD
        out.write(0x00);
        out.writeBytes(new byte[] {0, 1, 0, 0, 0, 0, 0, 0});
        for (String label : name.split("\\.")) {
            out.write(label.length());
            out.writeBytes(label.getBytes());
        }
        out.write(0);
        out.write(type >> 8);
        out.write(type);
        out.write(0);
        out.write(1);
        return out.toByteArray();
    }

    @Test
    void aQuestionIsReadAndAnswered() {
        byte[] q = query(0x1234, "Web.SB", DnsMessage.TYPE_A);
        var question = DnsMessage.question(q, q.length).orElseThrow();
        assertEquals("web.sb", question.name());
        assertEquals(DnsMessage.TYPE_A, question.type());
        assertEquals(0x1234, question.id());
        byte[] a = DnsMessage.answer(q, question, List.of("10.200.0.3"), 5);
        assertEquals(0x12, a[0] & 0xff);
        assertEquals(0x34, a[1] & 0xff);
        assertTrue((a[2] & 0x80) != 0, "a response");
        // the answer parses back: one A record, for the question's name, with that address and TTL
        var records = DnsMessage.addresses(a, a.length);
        assertEquals(List.of(new DnsMessage.Address("web.sb", "10.200.0.3", 5)), records);
        byte[] nx = DnsMessage.error(q, question, DnsMessage.RCODE_SERVFAIL);
        assertEquals(DnsMessage.RCODE_SERVFAIL, nx[3] & 0x0f);
        assertTrue(DnsMessage.addresses(nx, nx.length).isEmpty());
    }

    @Test
    void reverseNamesAreReadAndAnsweredWithAPointer() {
        assertEquals(java.util.Optional.of("10.200.0.3"), DnsMessage.reverseAddress("3.0.200.10.in-addr.arpa"));
        assertTrue(DnsMessage.reverseAddress("0.200.10.in-addr.arpa").isEmpty(), "three octets");
        assertTrue(DnsMessage.reverseAddress("300.0.200.10.in-addr.arpa").isEmpty());
        assertTrue(DnsMessage.reverseAddress("web.sb").isEmpty());
        byte[] q = query(0x4321, "3.0.200.10.in-addr.arpa", DnsMessage.TYPE_PTR);
        var question = DnsMessage.question(q, q.length).orElseThrow();
        byte[] a = DnsMessage.pointerAnswer(q, question, "web.sb", 5);
        assertEquals(0x43, a[0] & 0xff);
        assertEquals(1, a[7] & 0xff, "one answer");
        assertEquals("web.sb", pointerTarget(a, question.end()));
    }

    /** The target of the single PTR record that follows the question. */
    static String pointerTarget(byte[] reply, int questionEnd) {
        int p = questionEnd + 2; // the owner: a pointer to the question's name
        assertEquals(DnsMessage.TYPE_PTR, (reply[p] & 0xff) << 8 | (reply[p + 1] & 0xff));
        p += 10; // type, class, ttl, rdlength
        var name = new StringBuilder();
        for (int len = reply[p] & 0xff; len != 0; p += 1 + len, len = reply[p] & 0xff) {
            if (!name.isEmpty()) name.append('.');
            name.append(new String(reply, p + 1, len, java.nio.charset.StandardCharsets.US_ASCII));
        }
        return name.toString();
    }

    @Test
    void malformedPacketsAreEmptyNotExceptions() {
        byte[] q = query(1, "a.example", DnsMessage.TYPE_A);
        for (int n = 0; n < q.length; n++) {
            DnsMessage.question(q, n); // truncated at every length: no exception
            DnsMessage.addresses(q, n);
        }
        assertTrue(DnsMessage.question(new byte[0], 0).isEmpty());
        byte[] reply = q.clone();
        reply[2] |= (byte) 0x80;
        assertTrue(DnsMessage.question(reply, reply.length).isEmpty(), "a reply is not a question");
        // a compression pointer to itself must not loop
        byte[] loop = query(1, "a", DnsMessage.TYPE_A);
        loop[12] = (byte) 0xc0;
        loop[13] = 12;
        assertTrue(DnsMessage.question(loop, loop.length).isEmpty());
        var random = new java.util.Random(7);
        for (int i = 0; i < 2000; i++) {
            byte[] junk = new byte[random.nextInt(100)];
            random.nextBytes(junk);
            DnsMessage.question(junk, junk.length);
            DnsMessage.addresses(junk, junk.length);
        }
    }

    @Test
    void theQuestionIsEchoedVerbatim() {
        byte[] q = query(9, "x.test", DnsMessage.TYPE_AAAA);
        var question = DnsMessage.question(q, q.length).orElseThrow();
        byte[] a = DnsMessage.answer(q, question, List.of(), 5);
        assertEquals(0, a[7], "no answers");
        byte[] echoed = java.util.Arrays.copyOfRange(a, 12, a.length);
        assertArrayEquals(java.util.Arrays.copyOfRange(q, 12, q.length), echoed);
    }
}

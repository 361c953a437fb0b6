package dev.bhatti.cli;

import java.nio.charset.StandardCharsets;

/**
 * One output stream of a command, kept within {@code limit} bytes: its first half and its last half
 * (where errors and summaries usually are), with a marker in between that says how much was cut.
 * Memory stays bounded however much the command prints.
 */
final class OutputCap {
    private final int headLimit;
    private final byte[] head;
    private final byte[] tail; // a ring: the last bytes seen after the head filled
    private int headSize;
    private long tailWritten;
    private long total;

    OutputCap(int limit) {
        if (limit < 2) throw new IllegalArgumentException("limit must be at least 2 bytes");
        this.headLimit = limit / 2;
        this.head = new byte[headLimit];
        this.tail = new byte[limit - headLimit];
    }

    void add(String text) { add(text.getBytes(StandardCharsets.UTF_8)); }

    void add(byte[] b) {
        total += b.length;
        int i = 0;
        if (headSize < headLimit) {
            int n = Math.min(headLimit - headSize, b.length);
            System.arraycopy(b, 0, head, headSize, n);
            headSize += n;
            i = n;
        }
        for (; i < b.length; i++) tail[(int) (tailWritten++ % tail.length)] = b[i];
    }

    /** Bytes seen in all. */
    long total() { return total; }

    /** Bytes left out of {@link #text()}. */
    long cut() { return Math.max(0, total - head.length - tail.length); }

    /** What was kept, as text; a marker where bytes were cut, naming how many and what to do instead. */
    String text(String streamName) {
        if (cut() == 0) {
            byte[] all = new byte[(int) total];
            System.arraycopy(head, 0, all, 0, headSize);
            int tailSize = (int) tailWritten;
            for (int k = 0; k < tailSize; k++) all[headSize + k] = tail[k];
            return new String(all, StandardCharsets.UTF_8);
        }
        byte[] last = new byte[tail.length];
        int start = (int) (tailWritten % tail.length);
        System.arraycopy(tail, start, last, 0, tail.length - start);
        System.arraycopy(tail, 0, last, tail.length - start, start);
        return decodeHead(head, headSize) + "\n[... " + cut() + " bytes of " + streamName + " cut here (" + total
                + " bytes in all; the first " + headSize + " and the last " + tail.length + " are shown). To see more, write the output"
                + " to a file in the sandbox and read parts of it with read_file (offset/limit), or filter it (grep, head, tail) ...]\n"
                + decodeTail(last);
    }

    String text() { return text("output"); }

    /** The head, without a character the cut split at its end. */
    private static String decodeHead(byte[] b, int size) {
        int end = size;
        int back = 0;
        // step back over continuation bytes to the last lead byte; drop that character if it is incomplete
        while (back < 4 && end - back - 1 >= 0 && (b[end - back - 1] & 0xC0) == 0x80) back++;
        int lead = end - back - 1;
        if (lead >= 0 && (b[lead] & 0x80) != 0 && back + 1 < sequenceLength(b[lead])) end = lead;
        return new String(b, 0, end, StandardCharsets.UTF_8);
    }

    /** The tail, without continuation bytes of a character the cut split at its start. */
    private static String decodeTail(byte[] b) {
        int start = 0;
        while (start < b.length && start < 3 && (b[start] & 0xC0) == 0x80) start++;
        return new String(b, start, b.length - start, StandardCharsets.UTF_8);
    }

    private static int sequenceLength(byte lead) {
        int u = lead & 0xFF;
        if (u >= 0xF0) return 4;
        if (u >= 0xE0) return 3;
        if (u >= 0xC0) return 2;
        return 1;
    }
}

package dev.bhatti.protocol;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Feeds the decoder random bytes and mutated encodings of every message type. It may only answer a
 * message, empty (an unknown type) or {@link ProtocolException}; what it decodes must encode again and
 * decode to the same thing; and a lying length must never make it allocate more than the input warrants.
 */
class CodecFuzzTest {

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void decodeAnswersAMessageEmptyOrAProtocolException() {
        var fuzz = Fuzz.start("codec.decode", 60_000);
        var r = new Random(fuzz.seed);
        while (fuzz.more()) {
            Frame frame = switch (r.nextInt(4)) {
                case 0 -> new Frame(r.nextInt(256), r.nextInt(), Fuzz.bytes(r, r.nextInt(64)));
                case 1 -> { // a valid payload under another type
                    Frame f = Codec.encode(1, RandomMessages.any(r));
                    yield new Frame(r.nextInt(256), f.stream(), f.payload());
                }
                default -> {
                    Frame f = Codec.encode(r.nextInt(8), RandomMessages.any(r));
                    byte[] p = Fuzz.mutate(r, f.payload());
                    yield new Frame(f.type(), f.stream(), p.length > Frame.MAX_PAYLOAD ? Arrays.copyOf(p, Frame.MAX_PAYLOAD) : p);
                }
            };
            checkDecode(frame, fuzz.where());
        }
    }

    @Test
    void frameReaderOnlyEverThrowsIOExceptions() throws IOException {
        var fuzz = Fuzz.start("frameio.read", 8_000);
        var r = new Random(fuzz.seed);
        while (fuzz.more()) {
            var wire = new ByteArrayOutputStream();
            var writer = new FrameIO(InputStreamNull.INSTANCE, wire);
            for (int i = 1 + r.nextInt(4); i > 0; i--) writer.write(Codec.encode(r.nextInt(16), RandomMessages.any(r)));
            byte[] bytes = r.nextInt(10) == 0 ? Fuzz.bytes(r, r.nextInt(64)) : Fuzz.mutate(r, wire.toByteArray());
            var reader = new FrameIO(new ByteArrayInputStream(bytes), OutputStream.nullOutputStream());
            try {
                while (true) {
                    long before = THREADS.getCurrentThreadAllocatedBytes();
                    Frame f = reader.read();
                    long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
                    assertThat(allocated).as("%s: a frame read from %d bytes allocated %d", fuzz.where(), bytes.length, allocated)
                            .isLessThan(2L * bytes.length + (64 << 10));
                    if (f == null) break;
                    checkDecode(f, fuzz.where());
                }
            } catch (IOException expected) {
                // a truncated or malformed stream: the connection ends with it
            } catch (RuntimeException e) {
                throw new AssertionError(fuzz.where() + ": the frame reader threw " + e, e);
            }
        }
    }

    /** A length field near 2 GiB, or one just over the limit, fails without a large allocation. */
    @Test
    void hugeLengthsAllocateNothing() throws IOException {
        for (int length : new int[]{Integer.MAX_VALUE, Integer.MIN_VALUE, -1, Frame.MAX_PAYLOAD + 6, Frame.MAX_PAYLOAD + 5}) {
            byte[] header = ByteBuffer.allocate(9).putInt(length).put((byte) Codec.DATA).putInt(1).array();
            long before = THREADS.getCurrentThreadAllocatedBytes();
            assertThatThrownBy(() -> new FrameIO(new ByteArrayInputStream(header), OutputStream.nullOutputStream()).read())
                    .as("length %d", length).isInstanceOf(IOException.class);
            assertThat(THREADS.getCurrentThreadAllocatedBytes() - before).as("length %d", length).isLessThan(256 << 10);
        }
        // counts and string lengths inside a payload: every list, map and string type
        for (int type = 0; type < 256; type++) {
            for (int edge : new int[]{Integer.MAX_VALUE, 65_536, 1 << 20}) {
                byte[] payload = new byte[64];
                for (int at = 0; at + 4 <= payload.length; at += 4) ByteBuffer.wrap(payload).putInt(at, edge);
                long before = THREADS.getCurrentThreadAllocatedBytes();
                checkDecode(new Frame(type, 1, payload), "type " + type + " edge " + edge);
                assertThat(THREADS.getCurrentThreadAllocatedBytes() - before).as("type %d edge %d", type, edge).isLessThan(256 << 10);
            }
        }
    }

    private static void checkDecode(Frame frame, String where) {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        Optional<Message> decoded;
        try {
            decoded = Codec.decode(frame);
        } catch (ProtocolException expected) {
            return;
        } catch (RuntimeException e) {
            throw new AssertionError(where + ": decoding type " + frame.type() + " payload " + hex(frame.payload()) + " threw " + e, e);
        }
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        // Empty strings and items cost objects per 4-byte count; nothing may cost more than a constant factor.
        assertThat(allocated).as("%s: decoding %d bytes allocated %d", where, frame.payload().length, allocated)
                .isLessThan(64L * frame.payload().length + (64 << 10));
        if (decoded.isEmpty()) {
            assertThat(knownType(frame.type())).as("%s: known type %d decoded to nothing", where, frame.type()).isFalse();
            return;
        }
        // What decodes must survive the wire again unchanged (a canonical form after one round).
        try {
            Frame again = Codec.encode(frame.stream(), decoded.get());
            Message twice = Codec.decode(again).orElseThrow();
            // maps have no order (Map.copyOf), so compare the records; byte arrays by their encoding
            boolean same = twice instanceof Message.Data || twice instanceof Message.Resumed
                    ? Arrays.equals(Codec.encode(frame.stream(), twice).payload(), again.payload())
                    : twice.equals(decoded.get());
            assertThat(same).as("%s: round trip of %s gave %s", where, decoded.get(), twice).isTrue();
        } catch (ProtocolException | RuntimeException e) {
            throw new AssertionError(where + ": " + decoded.get() + " decoded but does not survive a round trip: " + e, e);
        }
    }

    private static boolean knownType(int type) {
        try {
            return Codec.decode(new Frame(type, 1, new byte[0])).isPresent();
        } catch (ProtocolException e) {
            return true;
        }
    }

    private static String hex(byte[] b) {
        return java.util.HexFormat.of().formatHex(b, 0, Math.min(b.length, 96)) + (b.length > 96 ? "..." : "");
    }

    enum InputStreamNull {
        ;
        static final java.io.InputStream INSTANCE = java.io.InputStream.nullInputStream();
    }
}

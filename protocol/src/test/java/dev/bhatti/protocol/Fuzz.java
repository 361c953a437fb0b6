package dev.bhatti.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The budget and seed of a fuzz run. CI runs a short fixed-seed run; a longer one is
 * {@code -Dfuzz.seconds=600} (and {@code -Dfuzz.seed=random} for new inputs). Every run prints its seed:
 * {@code -Dfuzz.seed=N} replays it. See docs/fuzzing.md.
 */
public final class Fuzz {

    private final String target;
    public final long seed;
    private final int minCases;
    private final long deadline;
    private int done;

    private Fuzz(String target, long seed, int minCases, long seconds) {
        this.target = target;
        this.seed = seed;
        this.minCases = minCases;
        this.deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    }

    /** A run of at least {@code defaultCases} cases (or {@code -Dfuzz.cases}), longer when {@code -Dfuzz.seconds} asks. */
    public static Fuzz start(String target, int defaultCases) {
        String s = System.getProperty("fuzz.seed", "20261205");
        long seed = s.equals("random") ? new Random().nextLong() : Long.parseLong(s);
        int cases = Integer.getInteger("fuzz.cases", defaultCases);
        long seconds = Long.getLong("fuzz.seconds", 0L);
        System.out.printf("fuzz %s: seed %d (replay with -Dfuzz.seed=%d), %d cases%s%n", target, seed, seed, cases,
                seconds > 0 ? " or " + seconds + " s" : "");
        return new Fuzz(target, seed, cases, seconds);
    }

    /** Whether to run another case. */
    public boolean more() {
        if (done < minCases || System.nanoTime() < deadline) {
            done++;
            return true;
        }
        System.out.printf("fuzz %s: %d cases done, seed %d%n", target, done, seed);
        return false;
    }

    /** The current case's number, for failure messages. */
    public int caseNumber() { return done; }

    public String where() { return "fuzz " + target + " seed " + seed + " case " + done; }

    // ---- random values that find edges --------------------------------------------------------------

    private static final String[] INTERESTING = {"", "/", ".", "..", "../..", "a\0b", "\0", "é", "\uD83D\uDE00", "\uD800",
            "x".repeat(300), "=", "A=B", "-", "--", " ", "\n", "\t\r", "%00", "\u202E", "root", "0", "1000", "nobody"};

    public static String string(Random r) {
        return switch (r.nextInt(6)) {
            case 0 -> INTERESTING[r.nextInt(INTERESTING.length)];
            case 1 -> new String(bytes(r, r.nextInt(24)), StandardCharsets.UTF_8);
            case 2 -> ascii(r, r.nextInt(40));
            case 3 -> INTERESTING[r.nextInt(INTERESTING.length)] + ascii(r, r.nextInt(8));
            case 4 -> unicode(r, r.nextInt(12));
            default -> ascii(r, 1 + r.nextInt(8));
        };
    }

    public static String ascii(Random r, int n) {
        var sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) sb.append((char) (r.nextBoolean() ? 'a' + r.nextInt(26) : 32 + r.nextInt(95)));
        return sb.toString();
    }

    private static String unicode(Random r, int n) {
        var sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) sb.append((char) r.nextInt(0x10000)); // lone surrogates included
        return sb.toString();
    }

    public static byte[] bytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    private static final long[] EDGES = {0, 1, -1, 2, 5, 9, 127, 128, 255, 256, 4096, 65_535, 65_536, 65_537, 1 << 20,
            (1 << 20) + 5, (1 << 20) + 6, Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE - 4, Long.MAX_VALUE, Long.MIN_VALUE};

    public static int anInt(Random r) {
        return switch (r.nextInt(4)) {
            case 0 -> (int) EDGES[r.nextInt(EDGES.length)];
            case 1 -> r.nextInt();
            default -> r.nextInt(100);
        };
    }

    public static long aLong(Random r) {
        return switch (r.nextInt(4)) {
            case 0 -> EDGES[r.nextInt(EDGES.length)];
            case 1 -> r.nextLong();
            default -> r.nextInt(100_000);
        };
    }

    // ---- mutations of a valid encoding ----------------------------------------------------------------

    /** One to four mutations of {@code in}: bit flips, cuts, splices, edge values over length fields. */
    public static byte[] mutate(Random r, byte[] in) {
        byte[] b = in;
        for (int k = 1 + r.nextInt(4); k > 0; k--) b = mutateOnce(r, b);
        return b;
    }

    private static byte[] mutateOnce(Random r, byte[] b) {
        int op = r.nextInt(b.length == 0 ? 2 : 8);
        return switch (op) {
            case 0 -> concat(b, bytes(r, 1 + r.nextInt(8))); // trailing garbage
            case 1 -> {
                int at = r.nextInt(b.length + 1); // insert
                yield concat(concat(Arrays.copyOf(b, at), bytes(r, 1 + r.nextInt(8))), Arrays.copyOfRange(b, at, b.length));
            }
            case 2 -> Arrays.copyOf(b, r.nextInt(b.length)); // truncate
            case 3, 4 -> { // bit flip
                byte[] c = b.clone();
                int i = r.nextInt(c.length);
                c[i] ^= (byte) (1 << r.nextInt(8));
                yield c;
            }
            case 5 -> { // random byte
                byte[] c = b.clone();
                c[r.nextInt(c.length)] = (byte) r.nextInt(256);
                yield c;
            }
            case 6 -> { // an edge value over what is likely a length or count (4-byte aligned or not)
                if (b.length < 4) yield b;
                byte[] c = b.clone();
                ByteBuffer.wrap(c).putInt(r.nextInt(c.length - 3), (int) EDGES[r.nextInt(EDGES.length)]);
                yield c;
            }
            default -> { // cut a piece out
                int from = r.nextInt(b.length);
                int to = Math.min(b.length, from + 1 + r.nextInt(16));
                yield concat(Arrays.copyOf(b, from), Arrays.copyOfRange(b, to, b.length));
            }
        };
    }

    public static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /**
     * Zero bytes that complete the frame a peer is reading after {@code sent}, so that a frame written next
     * is read as one; -1 when {@code sent} already breaks the framing (a bad length: the peer must close).
     */
    public static int padToBoundary(byte[] sent) {
        int pos = 0;
        while (pos < sent.length) {
            int left = sent.length - pos;
            byte[] len = new byte[4];
            System.arraycopy(sent, pos, len, 0, Math.min(4, left));
            int length = ByteBuffer.wrap(len).getInt();
            if (length < 5 || length > Frame.MAX_PAYLOAD + 5) return -1;
            if (left < 4 + length) return 4 + length - left;
            pos += 4 + length;
        }
        return 0;
    }
}

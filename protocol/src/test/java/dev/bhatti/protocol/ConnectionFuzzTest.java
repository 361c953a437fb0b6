package dev.bhatti.protocol;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Mutated frames into a live {@link Connection}, from either side, over real pipes. After each batch the
 * connection either still answers a ping or has closed; a caller waiting on a stream is never left
 * hanging; no reader thread outlives its connection.
 */
class ConnectionFuzzTest {

    /** Generous: a loaded 2-core machine; a healthy answer takes milliseconds. */
    private static final long DEADLINE_SECONDS = 20;

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (var c : open) c.close();
    }

    /** The raw side: writes arbitrary bytes, reads frames on its own thread; null in the queue is the end. */
    private final class Raw implements AutoCloseable {
        final OutputStream out;
        final LinkedBlockingQueue<Object> frames = new LinkedBlockingQueue<>();
        private final InputStream in;

        Raw(InputStream in, OutputStream out) {
            this.in = in;
            this.out = out;
            var reader = new FrameIO(in, OutputStream.nullOutputStream());
            Thread.ofPlatform().daemon().name("fuzz-raw-reader").start(() -> {
                try {
                    Frame f;
                    while ((f = reader.read()) != null) {
                        frames.add(f);
                        // answer the host's pings like an agent would
                        if (f.type() == Codec.PING) {
                            synchronized (this.out) { this.out.write(frame(Codec.encode(0, new Message.Pong(ByteBuffer.wrap(f.payload()).getLong())))); this.out.flush(); }
                        }
                    }
                } catch (IOException e) {
                    // closed: the end below
                }
                frames.add(End.END);
            });
            open.add(this);
        }

        void write(byte[] bytes) throws IOException {
            synchronized (out) {
                out.write(bytes);
                out.flush();
            }
        }

        @Override
        public void close() {
            try { out.close(); } catch (IOException ignored) { }
            try { in.close(); } catch (IOException ignored) { }
        }
    }

    enum End { END }

    private static byte[] frame(Frame f) throws IOException {
        var b = new ByteArrayOutputStream();
        new FrameIO(InputStream.nullInputStream(), b).write(f);
        return b.toByteArray();
    }

    /** A few frames: valid ones on likely stream ids, and mutated ones (headers included). */
    private static byte[] batch(Random r, boolean toAgent) throws IOException {
        var bytes = new ByteArrayOutputStream();
        for (int i = 1 + r.nextInt(6); i > 0; i--) {
            int stream = switch (r.nextInt(6)) {
                case 0 -> 0;
                case 1 -> r.nextInt();
                default -> 1 + 2 * r.nextInt(4);
            };
            Message m;
            if (stream == 0 && r.nextInt(5) > 0) m = RandomMessages.of(r.nextBoolean() ? 1 : 2, r); // mostly ping and pong
            else if (toAgent && r.nextInt(3) == 0) m = new Message.ExecRequest(List.of("x"), Map.of(), "", "", 0, false);
            else m = RandomMessages.any(r);
            byte[] f = frame(Codec.encode(stream, m));
            bytes.writeBytes(r.nextInt(8) == 0 ? Fuzz.mutate(r, f) : f);
        }
        return bytes.toByteArray();
    }

    private static final class Pipes {
        final Pipe a = open(), b = open();
        private static Pipe open() {
            try { return Pipe.open(); } catch (IOException e) { throw new java.io.UncheckedIOException(e); }
        }
    }

    @Test
    void anAgentConnectionFailsCleanlyOrKeepsAnswering() throws Exception {
        var fuzz = Fuzz.start("connection.agent-side", 200);
        var r = new Random(fuzz.seed);
        long baseline = readerThreads();
        int closedCases = 0, rounds = 0;
        while (fuzz.more()) {
            var p = new Pipes();
            Connection agent = Connection.server(new FrameIO(Channels.newInputStream(p.a.source()), Channels.newOutputStream(p.b.sink())),
                    "fuzz-agent", (s, opening) -> {
                        try {
                            s.send(new Message.Exit(0, false));
                        } catch (IOException ignored) {
                            // closed under us: fine
                        }
                    });
            open.add(agent);
            var raw = new Raw(Channels.newInputStream(p.b.source()), Channels.newOutputStream(p.a.sink()));
            assertThat(next(raw, fuzz)).isInstanceOf(Frame.class); // its hello
            raw.write(frame(Codec.encode(0, new Message.Hello(Codec.PROTOCOL_VERSION, "fuzz"))));
            boolean alive = true;
            for (int round = 0; round < 4 && alive; round++) {
                byte[] sent = batch(r, true);
                int pad = Fuzz.padToBoundary(sent);
                try {
                    raw.write(sent);
                    if (pad > 0) raw.write(new byte[pad]);
                    long nonce = r.nextLong();
                    raw.write(frame(Codec.encode(0, new Message.Ping(nonce))));
                    alive = awaitPongOrEnd(raw, nonce, fuzz);
                    if (alive) rounds++;
                } catch (IOException closed) {
                    alive = false; // it closed while we wrote: a clean failure
                }
                if (pad < 0) assertThat(alive).as("%s: a broken frame length left the connection open", fuzz.where()).isFalse();
            }
            if (!alive) {
                closedCases++;
                assertThat(agent.closedFuture()).as(fuzz.where()).succeedsWithin(DEADLINE_SECONDS, TimeUnit.SECONDS);
            }
            agent.close();
            raw.close();
        }
        System.out.printf("fuzz connection.agent-side: %d connections closed on bad input; %d batches answered%n", closedCases, rounds);
        awaitReaderThreads(baseline);
    }

    @Test
    void aHostConnectionNeverStrandsACaller() throws Exception {
        var fuzz = Fuzz.start("connection.host-side", 300);
        var r = new Random(fuzz.seed);
        long baseline = readerThreads();
        while (fuzz.more()) {
            var p = new Pipes();
            var raw = new Raw(Channels.newInputStream(p.a.source()), Channels.newOutputStream(p.b.sink()));
            raw.write(frame(Codec.encode(0, new Message.Hello(Codec.PROTOCOL_VERSION, "fuzz-agent"))));
            Connection host = Connection.client(new FrameIO(Channels.newInputStream(p.b.source()), Channels.newOutputStream(p.a.sink())), "fuzz-host");
            open.add(host);
            host.awaitHello(DEADLINE_SECONDS, TimeUnit.SECONDS);
            var callers = new ArrayList<CompletableFuture<Object>>();
            for (int i = 1 + r.nextInt(3); i > 0; i--) {
                Stream s = host.open(new Message.ExecRequest(List.of("x"), Map.of(), "", "", 0, false));
                var done = new CompletableFuture<Object>();
                Thread.ofPlatform().daemon().name("fuzz-caller").start(() -> {
                    try {
                        while (true) {
                            Message m = s.take();
                            if (m instanceof Message.Exit || m instanceof Message.Error || m instanceof Message.Detached) { done.complete(m); return; }
                        }
                    } catch (IOException e) {
                        done.complete(e);
                    } catch (Throwable t) {
                        done.completeExceptionally(t);
                    }
                });
                callers.add(done);
            }
            byte[] sent = batch(r, false);
            int pad = Fuzz.padToBoundary(sent);
            try {
                raw.write(sent);
                if (pad > 0) raw.write(new byte[pad]);
            } catch (IOException closed) {
                // the host closed on a bad frame
            }
            try {
                host.ping(DEADLINE_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError(fuzz.where() + ": the host connection neither answered nor closed", e);
            } catch (IOException closed) {
                assertThat(host.isOpen()).as(fuzz.where()).isFalse();
            }
            // (not "the ping failed": a forged pong in the batch may answer it before the bad length is read)
            if (pad < 0) {
                assertThat(host.closedFuture()).as("%s: a broken frame length was taken: %s", fuzz.where(),
                        java.util.HexFormat.of().formatHex(sent)).succeedsWithin(DEADLINE_SECONDS, TimeUnit.SECONDS);
            }
            host.close();
            for (var c : callers) {
                // a caller ends with the stream's last message or an IOException, whatever came
                assertThat(c).as("%s: a caller waiting on a stream", fuzz.where()).succeedsWithin(DEADLINE_SECONDS, TimeUnit.SECONDS);
            }
            raw.close();
        }
        awaitReaderThreads(baseline);
    }

    private static Object next(Raw raw, Fuzz fuzz) throws InterruptedException {
        Object o = raw.frames.poll(DEADLINE_SECONDS, TimeUnit.SECONDS);
        if (o == null) throw new AssertionError(fuzz.where() + ": the connection neither answered nor closed");
        return o;
    }

    /** True when the pong came, false when the connection closed; fails when neither happens in time. */
    private static boolean awaitPongOrEnd(Raw raw, long nonce, Fuzz fuzz) throws InterruptedException {
        while (true) {
            Object o = next(raw, fuzz);
            if (o == End.END) return false;
            Frame f = (Frame) o;
            Message m;
            try {
                m = Codec.decode(f).orElseThrow(() -> new AssertionError(fuzz.where() + ": the connection sent unknown type " + f.type()));
            } catch (ProtocolException e) {
                throw new AssertionError(fuzz.where() + ": the connection sent a malformed frame: " + e.getMessage());
            }
            if (m instanceof Message.Pong pong && pong.nonce() == nonce) return true;
        }
    }

    private static long readerThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("bhatti-channel-reader")).count();
    }

    private static void awaitReaderThreads(long baseline) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
        while (readerThreads() > baseline && System.nanoTime() < deadline) Thread.sleep(50);
        assertThat(readerThreads()).as("reader threads left after every connection closed").isLessThanOrEqualTo(baseline);
    }
}

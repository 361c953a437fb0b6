package dev.bhatti.protocol;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * A multiplexed connection over one byte stream. The host opens streams (odd ids); the agent accepts
 * them. Each stream has its own credit window so a bulk transfer on one stream never starves another,
 * and a peer can never make the other side buffer more than one window per stream.
 */
public final class Connection implements AutoCloseable {

    public static final int INITIAL_WINDOW = 256 * 1024;
    /** Data is cut into chunks of this size so that streams interleave fairly. */
    public static final int CHUNK = 32 * 1024;

    private final FrameIO io;
    private final BiConsumer<Stream, Message> acceptor; // null on the host
    private final Map<Integer, Stream> streams = new ConcurrentHashMap<>();
    private final AtomicInteger nextStream = new AtomicInteger(1);
    private final Map<Long, CompletableFuture<Void>> pings = new ConcurrentHashMap<>();
    private final AtomicLong nextPing = new AtomicLong();
    private final CompletableFuture<Message.Hello> peerHello = new CompletableFuture<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final String software;
    private volatile IOException failure;

    private Connection(FrameIO io, String software, BiConsumer<Stream, Message> acceptor) {
        this.io = io;
        this.software = software;
        this.acceptor = acceptor;
    }

    /** Host side: sends hello and starts reading; call {@link #awaitHello} before opening streams. */
    public static Connection client(FrameIO io, String software) throws IOException {
        var c = new Connection(io, software, null);
        c.start();
        c.sendControl(new Message.Hello(Codec.PROTOCOL_VERSION, software));
        return c;
    }

    /**
     * Agent side: says hello first (so a host that stayed connected across an agent restart learns of
     * it), answers every hello of the host with a {@link Message.HelloReply}, and hands every newly
     * opened stream to {@code acceptor} on a virtual thread.
     */
    public static Connection server(FrameIO io, String software, BiConsumer<Stream, Message> acceptor) {
        var c = new Connection(io, software, acceptor);
        // The hello goes out before anything is read: a host hello waiting already would otherwise be
        // answered first, the host would take the answer for the agent's hello, and then the hello for
        // a restart, failing its first request (CI: "writing /etc/bhatti/environ failed: the guest agent
        // restarted"; 6 of 20 boots of a loaded machine).
        try {
            c.sendControl(new Message.Hello(Codec.PROTOCOL_VERSION, software));
        } catch (IOException e) {
            // the byte stream is broken: the connection is closed and the caller opens it again
        }
        c.start();
        return c;
    }

    private void start() {
        Thread.ofPlatform().daemon().name("bhatti-channel-reader").start(this::readLoop);
    }

    /** Waits for the peer's hello and checks that it speaks our protocol version. */
    public Message.Hello awaitHello(long timeout, TimeUnit unit) throws IOException, TimeoutException, InterruptedException {
        Message.Hello hello = await(peerHello, timeout, unit);
        if (hello.version() != Codec.PROTOCOL_VERSION) {
            close();
            throw new ProtocolException("peer speaks protocol v" + hello.version() + ", we speak v" + Codec.PROTOCOL_VERSION
                    + " (" + hello.software() + "); rebuild the guest image with this version of bhatti");
        }
        return hello;
    }

    /** Round trip on the control stream: proves the peer is reading and answering. */
    public void ping(long timeout, TimeUnit unit) throws IOException, TimeoutException, InterruptedException {
        long nonce = nextPing.incrementAndGet();
        var done = new CompletableFuture<Void>();
        pings.put(nonce, done);
        try {
            sendControl(new Message.Ping(nonce));
            await(done, timeout, unit);
        } finally {
            pings.remove(nonce);
        }
    }

    /** Opens a new stream whose first message is {@code opening}. */
    public Stream open(Message opening) throws IOException {
        checkOpen();
        int id = nextStream.getAndAdd(2);
        var stream = new Stream(this, id);
        streams.put(id, stream);
        try {
            send(id, opening);
        } catch (IOException e) {
            streams.remove(id);
            throw e;
        }
        return stream;
    }

    public boolean isOpen() { return !closed.isDone(); }

    /** Why the connection ended (null while it is open). */
    public IOException failure() { return closed.isDone() ? failure : null; }

    /** Completes when the connection ends, for whatever reason. */
    public CompletableFuture<Void> closedFuture() { return closed; }

    @Override
    public void close() {
        fail(new IOException("agent channel closed"));
    }

    void send(int stream, Message message) throws IOException {
        checkOpen();
        Frame frame;
        try {
            frame = Codec.encode(stream, message);
        } catch (IllegalArgumentException e) { // too large for one frame: refused before anything is written
            throw new ProtocolException("cannot send " + message.getClass().getSimpleName() + ": " + e.getMessage());
        }
        try {
            io.write(frame);
        } catch (IOException e) {
            fail(e);
            throw e;
        }
    }

    void forget(int id) { streams.remove(id); }

    private void sendControl(Message m) throws IOException { send(0, m); }

    private void checkOpen() throws IOException {
        if (closed.isDone()) throw new IOException("agent channel closed", failure);
    }

    private void readLoop() {
        try {
            while (true) {
                Frame frame = io.read();
                if (frame == null) break;
                Optional<Message> decoded;
                try {
                    decoded = Codec.decode(frame);
                } catch (ProtocolException e) {
                    if (frame.stream() == 0) throw e;
                    refuse(frame.stream(), e); // the framing held: one malformed request ends only its own stream
                    continue;
                }
                if (decoded.isEmpty()) {
                    // a newer peer's message type: skipped, but a request that would open a stream is answered,
                    // or a newer host waits its full timeout for an older agent (a VM restored from an old snapshot)
                    if (acceptor != null && frame.stream() != 0 && !streams.containsKey(frame.stream())) {
                        send(frame.stream(), new Message.Error("unsupported", "this guest agent (" + software
                                + ") does not know request type 0x" + Integer.toHexString(frame.type())));
                    }
                    continue;
                }
                dispatch(frame.stream(), decoded.get());
            }
            fail(new IOException("agent channel closed by peer"));
        } catch (IOException e) {
            fail(e);
        } catch (RuntimeException e) {
            fail(new IOException("agent channel failed: " + e, e));
        }
    }

    private void dispatch(int id, Message m) throws IOException {
        if (id == 0) {
            switch (m) {
                case Message.Hello h when acceptor == null -> {
                    if (!peerHello.complete(h)) peerRestarted(h);
                }
                case Message.Hello h -> {
                    // Always answered: our own hello may have been dropped (written while no host was
                    // connected), and a host that waits for it would wait for ever.
                    if (!peerHello.complete(h)) hostReconnected(h);
                    sendControl(new Message.HelloReply(Codec.PROTOCOL_VERSION, software));
                }
                case Message.HelloReply r -> {
                    // the host's hello answered; one that comes after the agent's own hello changes nothing
                    if (acceptor == null) peerHello.complete(new Message.Hello(r.version(), r.software()));
                }
                case Message.Ping p -> sendControl(new Message.Pong(p.nonce()));
                case Message.Pong p -> {
                    var f = pings.get(p.nonce());
                    if (f != null) f.complete(null);
                }
                default -> throw new ProtocolException("unexpected message on control stream: " + m.getClass().getSimpleName());
            }
            return;
        }
        Stream stream = streams.get(id);
        if (stream == null) {
            if (acceptor != null && opensStream(m)) {
                var s = new Stream(this, id);
                streams.put(id, s);
                Thread.ofVirtual().name("bhatti-stream-" + id).start(() -> acceptor.accept(s, m));
            }
            return; // late frames for a stream already finished are dropped
        }
        stream.deliver(m);
    }

    /**
     * A second hello on the same byte stream: the agent restarted behind a host connection that stayed
     * up. Its earlier streams are gone; fail them now rather than let callers wait for their timeouts.
     */
    private void peerRestarted(Message.Hello h) {
        var cause = new PeerRestartedException("the guest agent restarted (" + h.software() + "); the request was lost");
        for (var it = streams.values().iterator(); it.hasNext(); ) {
            it.next().fail(cause);
            it.remove();
        }
    }

    /**
     * Agent side: a second hello on the same byte stream. A VM restored from a snapshot still holds the
     * connection of the host that took the snapshot, and its port never saw that host go; a new host
     * says hello instead. The old host's streams are gone (their ids will be reused); the caller answers.
     */
    private void hostReconnected(Message.Hello h) {
        var cause = new IOException("a new host connected (" + h.software() + ")");
        for (var it = streams.values().iterator(); it.hasNext(); ) {
            it.next().fail(cause);
            it.remove();
        }
    }

    /** A frame on stream {@code id} whose payload could not be decoded: that stream fails, the peer is told. */
    private void refuse(int id, ProtocolException cause) throws IOException {
        Stream stream = streams.remove(id);
        if (stream != null) stream.fail(cause);
        if (acceptor != null) send(id, new Message.Error("bad_request", "malformed request: " + cause.getMessage()));
    }

    /** Messages that start an operation on a new stream. */
    private static boolean opensStream(Message m) {
        return m instanceof Message.ExecRequest || m instanceof Message.DetachRequest || m instanceof Message.FileRead
                || m instanceof Message.FileWrite || m instanceof Message.FileStat || m instanceof Message.FileListRequest
                || m instanceof Message.FileWatch
                || m instanceof Message.SessionStart || m instanceof Message.SessionAttach
                || m instanceof Message.SessionListRequest || m instanceof Message.SessionKill
                || m instanceof Message.ForwardOpen || m instanceof Message.Resumed || m instanceof Message.Mount;
    }

    private void fail(IOException cause) {
        if (failure == null) failure = cause;
        if (closed.complete(null)) {
            streams.values().forEach(s -> s.fail(cause));
            streams.clear();
            pings.values().forEach(f -> f.completeExceptionally(cause));
            peerHello.completeExceptionally(cause);
            io.close();
        }
    }

    private static <T> T await(CompletableFuture<T> f, long timeout, TimeUnit unit)
            throws IOException, TimeoutException, InterruptedException {
        try {
            return f.get(timeout, unit);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) throw new IOException(io.getMessage(), io);
            throw new IOException(e.getCause());
        }
    }
}

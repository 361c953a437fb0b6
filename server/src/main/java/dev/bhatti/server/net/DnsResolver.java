package dev.bhatti.server.net;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.net.SocketTimeoutException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Arrays;

/**
 * The resolver each user's sandboxes use, listening on port 53 of the user's gateway, UDP and TCP. Names
 * of the user's own sandboxes ({@code name} or {@code name.sb}) are answered directly; every other
 * question is forwarded to the upstreams (over the transport it came by) and the reply relayed
 * unchanged. TCP matters: a reply too big for a datagram comes truncated, and the guest asks again
 * over TCP (RFC 7766). Replies for a sandbox's allowed host names open their addresses in its egress
 * set. The sandbox list is looked up per query through {@link Directory}, so it is never stale.
 */
final class DnsResolver implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DnsResolver.class);
    static final int SIBLING_TTL = 5;
    /** An address learned for an allowed name stays open at least this long (clients cache beyond TTLs). */
    static final long MIN_LEARNED_SECONDS = 300;
    private static final int UPSTREAM_TIMEOUT_MS = 2000;
    /** Forwarded questions in flight per resolver: a guest flooding it cannot exhaust threads or sockets. */
    private static final int MAX_IN_FLIGHT = 64;
    /** Open TCP connections per resolver; more are closed at once (the client falls back or retries). */
    private static final int MAX_TCP_CONNECTIONS = 32;
    /** A TCP client silent this long is dropped (RFC 7766 suggests seconds); so is an upstream. */
    private static final int TCP_IDLE_MS = 10_000;

    /** What the resolver needs to know of the daemon's state. */
    interface Directory {
        /** The IP of the user's sandbox called {@code name}, if any. */
        Optional<String> sibling(String userId, String name);

        /** The name of the user's sandbox at {@code ip}, if any. */
        Optional<String> siblingAt(String userId, String ip);

        /** Whether {@code ip} is in the sandboxes' address pool. */
        boolean inPool(String ip);

        /** The egress policy and TAP of the user's sandbox at {@code ip}, if any. */
        Optional<Map.Entry<String, Egress>> sandboxAt(String userId, String ip);

        /** Opens {@code ip} for the sandbox on {@code tap} for {@code seconds}. */
        void learned(String tap, String ip, long seconds);
    }

    private final NetnsSockets sockets;
    private final List<InetSocketAddress> upstreams;
    private final Directory directory;
    private final Map<String, Listener> listeners = new ConcurrentHashMap<>();

    DnsResolver(NetnsSockets sockets, List<InetSocketAddress> upstreams, Directory directory) {
        this.sockets = sockets;
        this.upstreams = List.copyOf(upstreams);
        this.directory = directory;
    }

    private record Listener(DatagramChannel udp, ServerSocketChannel tcp) {}

    /** Serves the user's gateway (idempotent). A failure is logged: sandboxes then lack DNS, nothing else. */
    void serve(String userId, String gateway) {
        listeners.computeIfAbsent(userId, u -> {
            DatagramChannel udp = null;
            try {
                var address = new InetSocketAddress(gateway, 53);
                udp = sockets.datagram();
                udp.bind(address);
                ServerSocketChannel tcp = sockets.serverSocket();
                try {
                    tcp.bind(address);
                } catch (IOException e) {
                    closeQuietly(tcp);
                    throw e;
                }
                DatagramChannel datagrams = udp;
                Thread.ofVirtual().name("dns-" + gateway).start(() -> loop(userId, datagrams));
                Thread.ofVirtual().name("dns-tcp-" + gateway).start(() -> acceptLoop(userId, tcp));
                log.info("DNS resolver on {}:53 (UDP and TCP)", gateway);
                return new Listener(udp, tcp);
            } catch (IOException e) {
                if (udp != null) closeQuietly(udp);
                log.warn("cannot serve DNS on {}:53: {}", gateway, e.getMessage());
                return null;
            }
        });
    }

    void stop(String userId) {
        Listener l = listeners.remove(userId);
        if (l != null) {
            closeQuietly(l.udp());
            closeQuietly(l.tcp());
        }
    }

    private void loop(String userId, DatagramChannel ch) {
        var inFlight = new Semaphore(MAX_IN_FLIGHT);
        while (ch.isOpen()) {
            ByteBuffer buf = ByteBuffer.allocate(1500);
            SocketAddress from;
            try {
                from = ch.receive(buf);
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                log.debug("dns receive: {}", e.getMessage());
                continue;
            }
            byte[] packet = buf.array();
            int length = buf.position();
            var q = DnsMessage.question(packet, length);
            if (q.isEmpty() || !(from instanceof InetSocketAddress client)) continue; // malformed: dropped
            byte[] local;
            try {
                local = localReply(userId, packet, q.get());
            } catch (RuntimeException e) { // the store, say: this question fails, the resolver goes on
                log.warn("dns question {} from {}: {}", q.get().name(), client, e.toString());
                reply(ch, client, DnsMessage.error(packet, q.get(), DnsMessage.RCODE_SERVFAIL));
                continue;
            }
            if (local != null) {
                reply(ch, client, local);
                continue;
            }
            if (!inFlight.tryAcquire()) continue; // overloaded: the client retries
            byte[] query = Arrays.copyOf(packet, length);
            Thread.ofVirtual().start(() -> {
                try {
                    forward(userId, ch, client, query, q.get());
                } finally {
                    inFlight.release();
                }
            });
        }
    }

    private void acceptLoop(String userId, ServerSocketChannel server) {
        var open = new Semaphore(MAX_TCP_CONNECTIONS);
        while (server.isOpen()) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                log.debug("dns accept: {}", e.getMessage());
                continue;
            }
            if (!open.tryAcquire()) {
                closeQuietly(client);
                continue;
            }
            Thread.ofVirtual().start(() -> {
                try (client) {
                    serveTcp(userId, client);
                } catch (IOException e) {
                    log.debug("dns over tcp: {}", e.getMessage());
                } catch (RuntimeException e) {
                    log.warn("dns over tcp from {}: {}", client, e.toString());
                } finally {
                    open.release();
                }
            });
        }
    }

    /** Answers length-prefixed queries on one connection, one after another, until the client stops. */
    private void serveTcp(String userId, SocketChannel client) throws IOException {
        if (!(client.getRemoteAddress() instanceof InetSocketAddress from)) return;
        client.socket().setSoTimeout(TCP_IDLE_MS);
        var in = new DataInputStream(client.socket().getInputStream());
        var out = client.socket().getOutputStream();
        while (true) {
            byte[] query = readMessage(in);
            if (query == null) return;
            var q = DnsMessage.question(query, query.length);
            if (q.isEmpty()) return; // malformed: the connection ends
            byte[] reply = localReply(userId, query, q.get());
            if (reply == null) reply = forwardTcp(userId, from, query, q.get());
            out.write(lengthPrefixed(reply));
            out.flush();
        }
    }

    /** A TCP-framed DNS message (RFC 1035 4.2.2: a two-byte length first); null at a clean end or timeout. */
    private static byte[] readMessage(DataInputStream in) throws IOException {
        int length;
        try {
            length = in.readUnsignedShort();
        } catch (EOFException | SocketTimeoutException e) {
            return null;
        }
        if (length < 12) return null;
        byte[] message = in.readNBytes(length);
        return message.length == length ? message : null;
    }

    private static byte[] lengthPrefixed(byte[] message) {
        byte[] framed = new byte[message.length + 2];
        framed[0] = (byte) (message.length >>> 8);
        framed[1] = (byte) message.length;
        System.arraycopy(message, 0, framed, 2, message.length);
        return framed;
    }

    /**
     * The reply to a question about the user's own sandboxes, or null when it must go upstream.
     * <ul>
     * <li>{@code name} or {@code name.sb} of a sibling: its address for A (or ANY), no data for
     *     other types.
     * <li>a reverse name ({@code d.c.b.a.in-addr.arpa}) of an address in the pool: the sibling's name
     *     ({@code name.sb}) for PTR; NXDOMAIN for any other address of the pool (another user's
     *     sandboxes are not named, and private addresses are not asked of public resolvers).
     * </ul>
     */
    private byte[] localReply(String userId, byte[] query, DnsMessage.Question q) {
        Optional<String> reverse = DnsMessage.reverseAddress(q.name());
        if (reverse.isPresent()) {
            if (!directory.inPool(reverse.get())) return null;
            // only names a forward question can ask for (one DNS label), so that the two agree
            Optional<String> name = directory.siblingAt(userId, reverse.get()).filter(n -> DnsNames.LABEL.matcher(n).matches());
            if (name.isEmpty()) return DnsMessage.error(query, q, DnsMessage.RCODE_NXDOMAIN);
            return q.type() == DnsMessage.TYPE_PTR || q.type() == DnsMessage.TYPE_ANY
                    ? DnsMessage.pointerAnswer(query, q, name.get() + ".sb", SIBLING_TTL)
                    : DnsMessage.answer(query, q, List.of(), SIBLING_TTL);
        }
        String name = q.name().endsWith(".sb") ? q.name().substring(0, q.name().length() - 3) : q.name();
        if (name.contains(".")) return null;
        Optional<String> ip = directory.sibling(userId, name);
        if (ip.isEmpty()) return null;
        boolean address = q.type() == DnsMessage.TYPE_A || q.type() == DnsMessage.TYPE_ANY;
        return DnsMessage.answer(query, q, address ? List.of(ip.get()) : List.of(), SIBLING_TTL);
    }

    private void forward(String userId, DatagramChannel ch, InetSocketAddress client, byte[] query, DnsMessage.Question q) {
        byte[] reply = null;
        for (int i = 0; i < upstreams.size() && reply == null; i++) reply = askOverUdp(upstreams.get(i), query, q);
        reply(ch, client, answered(userId, client, query, q, reply));
    }

    private byte[] forwardTcp(String userId, InetSocketAddress client, byte[] query, DnsMessage.Question q) {
        byte[] reply = null;
        for (int i = 0; i < upstreams.size() && reply == null; i++) reply = askOverTcp(upstreams.get(i), query, q);
        return answered(userId, client, query, q, reply);
    }

    /** An upstream's reply, once its addresses opened what they should; SERVFAIL when no upstream answered. */
    private byte[] answered(String userId, InetSocketAddress client, byte[] query, DnsMessage.Question q, byte[] reply) {
        if (reply == null) return DnsMessage.error(query, q, DnsMessage.RCODE_SERVFAIL);
        try {
            learn(userId, client.getAddress().getHostAddress(), q, reply);
        } catch (RuntimeException e) { // the answer still goes back; an allowed name's address stays closed
            log.warn("dns answer for {}: could not open its addresses: {}", q.name(), e.toString());
        }
        return reply;
    }

    private byte[] askOverUdp(InetSocketAddress upstream, byte[] query, DnsMessage.Question q) {
        try (DatagramChannel up = sockets.datagram()) {
            up.connect(upstream);
            up.write(ByteBuffer.wrap(query));
            ByteBuffer answer = ByteBuffer.allocate(65_535); // a datagram bigger than the buffer would be cut silently
            if (!receive(up, answer)) return null;
            byte[] reply = Arrays.copyOf(answer.array(), answer.position());
            return answers(reply, q) ? reply : null;
        } catch (IOException e) {
            log.debug("dns upstream {}: {}", upstream, e.getMessage());
            return null;
        }
    }

    private byte[] askOverTcp(InetSocketAddress upstream, byte[] query, DnsMessage.Question q) {
        try (SocketChannel up = sockets.socket()) {
            up.socket().connect(upstream, UPSTREAM_TIMEOUT_MS);
            up.socket().setSoTimeout(UPSTREAM_TIMEOUT_MS);
            up.socket().getOutputStream().write(lengthPrefixed(query));
            byte[] reply = readMessage(new DataInputStream(up.socket().getInputStream()));
            return reply != null && answers(reply, q) ? reply : null;
        } catch (IOException e) {
            log.debug("dns upstream {} over tcp: {}", upstream, e.getMessage());
            return null;
        }
    }

    /** Whether {@code reply} is the answer to {@code q} (by its id; anything else is dropped). */
    private static boolean answers(byte[] reply, DnsMessage.Question q) {
        return reply.length >= 2 && ((reply[0] & 0xff) << 8 | (reply[1] & 0xff)) == q.id();
    }

    /** Waits for one datagram on a connected channel, up to the upstream timeout. */
    private static boolean receive(DatagramChannel up, ByteBuffer into) throws IOException {
        up.configureBlocking(false);
        try (var selector = Selector.open()) {
            up.register(selector, SelectionKey.OP_READ);
            if (selector.select(UPSTREAM_TIMEOUT_MS) == 0) return false;
            return up.read(into) > 0;
        }
    }

    private void learn(String userId, String clientIp, DnsMessage.Question q, byte[] reply) {
        var sandbox = directory.sandboxAt(userId, clientIp);
        if (sandbox.isEmpty() || sandbox.get().getValue().all() || !sandbox.get().getValue().allowsName(q.name())) return;
        for (DnsMessage.Address a : DnsMessage.addresses(reply, reply.length)) {
            directory.learned(sandbox.get().getKey(), a.ip(), Math.max(a.ttl(), MIN_LEARNED_SECONDS));
        }
    }

    private static void reply(DatagramChannel ch, InetSocketAddress client, byte[] bytes) {
        try {
            ch.send(ByteBuffer.wrap(bytes), client);
        } catch (IOException e) {
            log.debug("dns reply to {}: {}", client, e.getMessage());
        }
    }

    private static void closeQuietly(Closeable ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public void close() {
        for (String user : List.copyOf(listeners.keySet())) stop(user);
    }
}

package dev.bhatti.server.net;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * The resolver each user's sandboxes use, listening on UDP port 53 of the user's gateway. Names of the
 * user's own sandboxes ({@code name} or {@code name.sb}) are answered directly; every other question
 * is forwarded to the upstreams and the reply relayed unchanged. Replies for a sandbox's allowed host
 * names open their addresses in its egress set. The sandbox list is looked up per query through
 * {@link Directory}, so it is never stale.
 */
final class DnsResolver implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DnsResolver.class);
    static final int SIBLING_TTL = 5;
    /** An address learned for an allowed name stays open at least this long (clients cache beyond TTLs). */
    static final long MIN_LEARNED_SECONDS = 300;
    private static final int UPSTREAM_TIMEOUT_MS = 2000;
    /** Forwarded questions in flight per resolver: a guest flooding it cannot exhaust threads or sockets. */
    private static final int MAX_IN_FLIGHT = 64;

    /** What the resolver needs to know of the daemon's state. */
    interface Directory {
        /** The IP of the user's sandbox called {@code name}, if any. */
        Optional<String> sibling(String userId, String name);

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

    private record Listener(DatagramChannel channel, Thread thread) {}

    /** Serves the user's gateway (idempotent). A failure is logged: sandboxes then lack DNS, nothing else. */
    void serve(String userId, String gateway) {
        listeners.computeIfAbsent(userId, u -> {
            try {
                DatagramChannel ch = sockets.datagram();
                ch.bind(new InetSocketAddress(gateway, 53));
                Thread t = Thread.ofVirtual().name("dns-" + gateway).start(() -> loop(userId, ch));
                log.info("DNS resolver on {}:53", gateway);
                return new Listener(ch, t);
            } catch (IOException e) {
                log.warn("cannot serve DNS on {}:53: {}", gateway, e.getMessage());
                return null;
            }
        });
    }

    void stop(String userId) {
        Listener l = listeners.remove(userId);
        if (l != null) closeQuietly(l.channel());
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
            Optional<String> local = localAnswer(userId, q.get());
            if (local != null) {
                reply(ch, client, DnsMessage.answer(packet, q.get(), local.map(List::of).orElse(List.of()), SIBLING_TTL));
                continue;
            }
            if (!inFlight.tryAcquire()) continue; // overloaded: the client retries
            byte[] query = java.util.Arrays.copyOf(packet, length);
            Thread.ofVirtual().start(() -> {
                try {
                    forward(userId, ch, client, query, q.get());
                } finally {
                    inFlight.release();
                }
            });
        }
    }

    /**
     * An answer from the user's own sandboxes: an address for an A or ANY question, empty (no data)
     * for other types; null when the name is not a sibling's and must go upstream.
     */
    private Optional<String> localAnswer(String userId, DnsMessage.Question q) {
        String name = q.name().endsWith(".sb") ? q.name().substring(0, q.name().length() - 3) : q.name();
        if (name.contains(".")) return null;
        Optional<String> ip = directory.sibling(userId, name);
        if (ip.isEmpty()) return null;
        return q.type() == DnsMessage.TYPE_A || q.type() == DnsMessage.TYPE_ANY ? ip : Optional.empty();
    }

    private void forward(String userId, DatagramChannel ch, InetSocketAddress client, byte[] query, DnsMessage.Question q) {
        for (InetSocketAddress upstream : upstreams) {
            try (DatagramChannel up = sockets.datagram()) {
                up.connect(upstream);
                up.write(ByteBuffer.wrap(query));
                ByteBuffer answer = ByteBuffer.allocate(4096);
                if (!receive(up, answer)) continue;
                byte[] reply = java.util.Arrays.copyOf(answer.array(), answer.position());
                if (reply.length < 2 || ((reply[0] & 0xff) << 8 | (reply[1] & 0xff)) != q.id()) continue;
                learn(userId, client.getAddress().getHostAddress(), q, reply);
                reply(ch, client, reply);
                return;
            } catch (IOException e) {
                log.debug("dns upstream {}: {}", upstream, e.getMessage());
            }
        }
        reply(ch, client, DnsMessage.error(query, q, DnsMessage.RCODE_SERVFAIL));
    }

    /** Waits for one datagram on a connected channel, up to the upstream timeout. */
    private static boolean receive(DatagramChannel up, ByteBuffer into) throws IOException {
        up.configureBlocking(false);
        try (var selector = java.nio.channels.Selector.open()) {
            up.register(selector, java.nio.channels.SelectionKey.OP_READ);
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

    private static void closeQuietly(DatagramChannel ch) {
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

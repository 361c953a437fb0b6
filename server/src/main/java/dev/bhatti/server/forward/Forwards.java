package dev.bhatti.server.forward;

import dev.bhatti.server.error.DomainException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Port forwards: a listener on the host's loopback per forward, each accepted connection relayed to
 * a guest port over the agent channel (no guest networking needed), many connections at once.
 */
public final class Forwards implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Forwards.class);

    /** One forward; {@code hostPort} is where it listens on 127.0.0.1. */
    public record Forward(String sandboxId, int guestPort, int hostPort, ServerSocketChannel listener) {}

    /**
     * Relays one connection to a guest port (waking the sandbox first); blocks until both directions end.
     * Throws a {@link DomainException} when the sandbox cannot take it.
     */
    @FunctionalInterface
    public interface Tunnel {
        void relay(String sandboxId, int guestPort, SocketChannel client);
    }

    /** Forwards one sandbox may have at once: each holds a host port and a thread, so there must be a bound. */
    public static final int MAX_PER_SANDBOX = 64;

    private final Tunnel tunnel;
    private final int maxPerSandbox;
    private final Map<String, List<Forward>> bySandbox = new ConcurrentHashMap<>();

    public Forwards(Tunnel tunnel) { this(tunnel, MAX_PER_SANDBOX); }

    public Forwards(Tunnel tunnel, int maxPerSandbox) {
        this.tunnel = tunnel;
        this.maxPerSandbox = maxPerSandbox;
    }

    public Forward open(String sandboxId, int guestPort, int hostPort) {
        if (guestPort < 1 || guestPort > 65535) throw DomainException.invalid("guest_port must be from 1 to 65535");
        if (hostPort != 0 && (hostPort < 1024 || hostPort > 65535)) {
            throw DomainException.invalid("host_port must be 0 (any free port) or from 1024 to 65535");
        }
        List<Forward> list = bySandbox.computeIfAbsent(sandboxId, k -> new CopyOnWriteArrayList<>());
        synchronized (list) { // the count and the add as one step, so concurrent opens cannot pass the cap together
            if (list.size() >= maxPerSandbox) {
                throw DomainException.conflict("the sandbox has " + list.size() + " forwards, the most it may have;"
                        + " close one first (DELETE /sandboxes/{id}/forward/{host_port}, or all with DELETE /sandboxes/{id}/forward)");
            }
            return listen(list, sandboxId, guestPort, hostPort);
        }
    }

    private Forward listen(List<Forward> list, String sandboxId, int guestPort, int hostPort) {
        ServerSocketChannel listener;
        try {
            listener = ServerSocketChannel.open();
            try {
                listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), hostPort));
            } catch (BindException e) {
                listener.close();
                throw DomainException.conflict("host port " + hostPort + " is in use; pick another or 0 for any");
            }
        } catch (IOException e) {
            throw DomainException.failed("cannot listen on the host: " + e.getMessage());
        }
        int port = listener.socket().getLocalPort();
        var forward = new Forward(sandboxId, guestPort, port, listener);
        list.add(forward);
        Thread.ofVirtual().name("forward-" + port).start(() -> accept(forward));
        log.info("forwarding 127.0.0.1:{} to sandbox {} port {}", port, sandboxId, guestPort);
        return forward;
    }

    public List<Forward> list(String sandboxId) { return List.copyOf(bySandbox.getOrDefault(sandboxId, List.of())); }

    /** Closes the sandbox's forwards on {@code hostPort}, or all of them when it is 0; returns how many. */
    public int close(String sandboxId, int hostPort) {
        var list = bySandbox.getOrDefault(sandboxId, List.of());
        int closed = 0;
        for (Forward f : list) {
            if (hostPort == 0 || f.hostPort() == hostPort) {
                closeQuietly(f);
                list.remove(f);
                closed++;
            }
        }
        return closed;
    }

    private void accept(Forward f) {
        while (f.listener().isOpen()) {
            SocketChannel client;
            try {
                client = f.listener().accept();
            } catch (IOException e) {
                return; // closed
            }
            Thread.ofVirtual().start(() -> relay(f, client));
        }
    }

    private void relay(Forward f, SocketChannel client) {
        try (client) {
            tunnel.relay(f.sandboxId(), f.guestPort(), client);
        } catch (DomainException e) {
            log.info("forward {} -> {}:{} refused: {}", f.hostPort(), f.sandboxId(), f.guestPort(), e.getMessage());
        } catch (IOException e) {
            // client closed
        }
    }

    private static void closeQuietly(Forward f) {
        try {
            f.listener().close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        bySandbox.values().forEach(l -> l.forEach(Forwards::closeQuietly));
        bySandbox.clear();
    }
}

package dev.bhatti.server.publish;

import dev.bhatti.server.forward.Forwards;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The proxy's way into a guest port: a loopback forward per published (sandbox, port), opened on first
 * use, relaying each connection over the agent channel. A connection through it wakes a warm or cold
 * sandbox first, and keeps it from cooling while open, as any forward does.
 */
public final class ProxyBackends implements AutoCloseable {
    private final Forwards forwards;
    private final Map<String, Forwards.Forward> open = new ConcurrentHashMap<>();

    /** One backend per published port: bounded by what is published, not by the forward cap. */
    public ProxyBackends(Forwards.Tunnel tunnel) { this.forwards = new Forwards(tunnel, Integer.MAX_VALUE); }

    /** The loopback port that reaches {@code guestPort} of the sandbox. */
    public int port(String sandboxId, int guestPort) {
        return open.computeIfAbsent(sandboxId + ":" + guestPort, k -> forwards.open(sandboxId, guestPort, 0)).hostPort();
    }

    /** Stops relaying to the sandbox's port (all its ports with 0); connections in flight end with the sandbox. */
    public void close(String sandboxId, int guestPort) {
        open.keySet().removeIf(k -> k.startsWith(sandboxId + ":") && (guestPort == 0 || k.equals(sandboxId + ":" + guestPort)));
        var list = forwards.list(sandboxId);
        for (var f : list) {
            if (guestPort == 0 || f.guestPort() == guestPort) forwards.close(sandboxId, f.hostPort());
        }
    }

    @Override
    public void close() { forwards.close(); }
}

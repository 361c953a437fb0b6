package dev.bhatti.server.net;

import dev.bhatti.engine.GuestNet;
import dev.bhatti.server.store.SandboxRecord;

import java.util.Optional;
import java.util.List;

/**
 * Networking of sandboxes on this host: either none (each VM only has its agent channel) or a bridge
 * per user. Every method is idempotent, so a retry or a reconciler can always call it again.
 */
public sealed interface SandboxNetwork extends AutoCloseable permits SandboxNetwork.None, BridgedNetwork {

    /** After the sandboxes were recovered: puts links and rules in order and removes orphans. */
    void start() throws NetworkException;

    /**
     * Gives the sandbox an address, MAC and TAP on its user's network and opens what its egress
     * allows; null if this host has no networking. Throws DomainException 503 when the pool is exhausted.
     */
    GuestNet attach(SandboxRecord sandbox, Egress egress);

    /**
     * Refuses (DomainException 400) an egress policy that asks for what no sandbox on this host may
     * reach, before anything is made for the sandbox. The firewall drops it anyway; this says so.
     */
    default void admit(Egress egress) { }

    /** Before the sandbox's VM boots or restores: its TAP exists and stale neighbour state is gone. */
    void prepare(String sandboxId) throws NetworkException;

    /** Removes the sandbox's TAP and rules and returns its address (its row goes with the sandbox's). */
    void detach(String sandboxId);

    /** What a user sees of the sandbox's network. */
    Optional<View> view(String sandboxId);

    record View(String ip, String gateway, String egress, List<String> allowHosts) {}

    @Override
    void close();

    /** No networking: sandboxes get no NIC. */
    record None() implements SandboxNetwork {
        @Override public void start() { }
        @Override public GuestNet attach(SandboxRecord sandbox, Egress egress) { return null; }
        @Override public void prepare(String sandboxId) { }
        @Override public void detach(String sandboxId) { }
        @Override public Optional<View> view(String sandboxId) { return Optional.empty(); }
        @Override public void close() { }
    }
}

package dev.bhatti.server.store;

import java.util.List;

/**
 * A sandbox's attachment to its user's network: address, MAC and host TAP, and its egress policy
 * ({@code egress} "all" or "none"; {@code allowHosts} are reachable even under "none").
 */
public record NetworkRecord(String sandboxId, String userId, String ip, String mac, String tap, String egress,
                            List<String> allowHosts) {
    public NetworkRecord {
        allowHosts = List.copyOf(allowHosts);
    }
}

package dev.bhatti.sdk;

/**
 * A TCP port forward: connections to {@code hostAddr:hostPort} on the daemon's host reach {@code guestPort} in the
 * sandbox, over the agent channel (no guest network needed). Only reachable from the daemon's host.
 */
public record Forward(int guestPort, int hostPort, String hostAddr) {}

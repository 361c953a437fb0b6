package dev.bhatti.server.api;

/** Body of {@code POST /sandboxes/{id}/forward}; {@code host_port} 0 or absent picks a free port. */
public record ForwardBody(Integer guestPort, Integer hostPort) {}

package dev.bhatti.server.store;

import java.time.Instant;

/**
 * An image a user owns: {@code source} says where it came from (a registry reference, an import, a
 * sandbox it was saved from), {@code config} is its ENV/WORKDIR/USER/ENTRYPOINT/CMD as JSON.
 */
public record ImageRecord(String id, String userId, String name, String source, String digest, long sizeBytes, String config,
                          Instant createdAt) {}

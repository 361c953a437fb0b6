package dev.bhatti.server.store;

import java.time.Instant;

/**
 * A user's volume. {@code status}: creating (its file being made) or ready. {@code source} says where it
 * came from (empty, a clone of another, a restore, a snapshot's copy). See V011 for {@code generation}.
 */
public record VolumeRecord(String id, String userId, String name, int sizeMb, String status, long generation, String source,
                           Instant createdAt) {
    public static final String CREATING = "creating";
    public static final String READY = "ready";
}

package dev.bhatti.server.store;

import java.time.Instant;

/** Guest {@code port} of a sandbox, served by the public proxy at host {@code alias}.<domain>. */
public record PublishRecord(String id, String userId, String sandboxId, int port, String alias, Instant createdAt) {}

package dev.bhatti.server.store;

import java.time.Instant;

/** A user's saved create request: {@code spec} is the create body as JSON (no name, no template). */
public record TemplateRecord(String userId, String name, String spec, Instant createdAt) {}

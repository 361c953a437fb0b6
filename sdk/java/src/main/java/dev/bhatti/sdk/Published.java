package dev.bhatti.sdk;

import java.time.Instant;

/**
 * A guest port published at {@code <alias>.<proxy domain>} (an unauthenticated public URL; the sandbox wakes on demand).
 *
 * @param url             the full public URL, or null when no public proxy runs ({@code urlUnavailable} says why)
 * @param certificate     only when the proxy gets a certificate per alias: ready, pending or failed: REASON
 */
public record Published(String id, String sandboxId, int port, String alias, String url, String urlUnavailable,
                        Instant createdAt, String certificate) {}

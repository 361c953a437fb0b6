package dev.bhatti.sdk;

import java.time.Instant;
import java.util.List;

/**
 * A session in a sandbox: a shell, a piped process or the init process.
 *
 * @param tty       a terminal (shells)
 * @param exitCode  null while it runs
 * @param attached  a client is connected to it now
 */
public record SessionInfo(String sessionId, List<String> argv, boolean tty, boolean running, Integer exitCode, boolean attached,
                          Instant createdAt) {}

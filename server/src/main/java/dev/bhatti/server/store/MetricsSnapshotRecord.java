package dev.bhatti.server.store;

import java.time.Instant;

/**
 * The daemon's summary numbers at one moment (a row every minute): sandboxes by thermal state and in
 * all, users, API requests and errors since the row before, the host's 1-minute load and memory (-1 when
 * unreadable).
 */
public record MetricsSnapshotRecord(Instant at, int sandboxesHot, int sandboxesWarm, int sandboxesCold, int sandboxesTotal, int users,
                                    long apiRequests, long apiErrors, double load1, long memoryTotalBytes, long memoryAvailableBytes) {}

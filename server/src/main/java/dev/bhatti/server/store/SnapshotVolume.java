package dev.bhatti.server.store;

/** A volume a named snapshot carries: which it was, at which generation, where and how it was mounted. */
public record SnapshotVolume(int position, String volumeId, String volumeName, long generation, String mount, boolean readOnly) {}

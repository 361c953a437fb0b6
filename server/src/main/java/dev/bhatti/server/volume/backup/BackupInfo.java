package dev.bhatti.server.volume.backup;

import java.time.Instant;

/**
 * One backup as listed: {@code sizeBytes} of the volume file, {@code chunkCount} chunks of which
 * {@code uploadedChunks} were new (the rest were holes or already stored), {@code uploadedBytes} the
 * ciphertext actually sent, {@code millis} how long the backup took.
 */
public record BackupInfo(String id, String volume, Instant createdAt, long sizeBytes, int chunkCount, int uploadedChunks,
                         long uploadedBytes, long millis) {}

package dev.bhatti.sdk;

import java.time.Instant;

/**
 * One entry of a guest directory.
 *
 * @param mode  permission bits in octal, like {@code 0644}
 * @param type  file, dir, symlink or other
 */
public record FileEntry(String name, long size, String mode, boolean isDir, String type, Instant mtime) {}

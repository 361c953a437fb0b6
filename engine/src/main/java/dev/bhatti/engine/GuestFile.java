package dev.bhatti.engine;

/** A file in a guest. {@code type}: file, dir, symlink or other; {@code mode}: permission bits. */
public record GuestFile(String name, long size, int mode, String type, long mtimeMillis) {}

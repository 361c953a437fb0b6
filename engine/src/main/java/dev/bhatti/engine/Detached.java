package dev.bhatti.engine;

/** A command started in the background in a guest: its pid there and the file its output goes to. */
public record Detached(long pid, String outputFile) {}

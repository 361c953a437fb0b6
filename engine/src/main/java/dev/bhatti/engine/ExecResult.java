package dev.bhatti.engine;

/** How a command ended. A timed-out command was killed with its whole process group. */
public record ExecResult(int exitCode, boolean timedOut) {}

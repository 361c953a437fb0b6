package dev.bhatti.sdk;

/**
 * One event of a streamed exec, as it happens: output ({@link Stdout}, {@link Stderr}, UTF-8 text; a
 * character split across reads arrives whole) and, last, the {@link Exit}.
 */
public sealed interface ExecEvent {

    /** Output on the command's standard output. */
    record Stdout(String data) implements ExecEvent {}

    /** Output on the command's standard error. */
    record Stderr(String data) implements ExecEvent {}

    /** The command ended: its exit code, and whether it was killed at its timeout. Always the last event. */
    record Exit(int exitCode, boolean timedOut) implements ExecEvent {}
}

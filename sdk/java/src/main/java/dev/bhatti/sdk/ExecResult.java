package dev.bhatti.sdk;

/**
 * What a command did. A non-zero exit is a result, not an exception.
 *
 * @param stdout    its output, decoded as UTF-8; capped (by the daemon at 10 MB when buffered), {@code truncated} then
 * @param timedOut  the command was killed at its timeout
 */
public record ExecResult(int exitCode, String stdout, String stderr, boolean timedOut, boolean truncated) {
    public ExecResult {
        stdout = stdout == null ? "" : stdout;
        stderr = stderr == null ? "" : stderr;
    }

    /** Exit code 0 and not killed at its timeout. */
    public boolean ok() { return exitCode == 0 && !timedOut; }
}

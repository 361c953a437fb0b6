package dev.bhatti.cli;

/** A failure to report to the user as one line on stderr, with an exit code. */
final class CliException extends Exception {
    private final int httpStatus;

    CliException(String message) { this(message, 0); }

    CliException(String message, int httpStatus) {
        super(message);
        this.httpStatus = httpStatus;
    }

    int httpStatus() { return httpStatus; }
}

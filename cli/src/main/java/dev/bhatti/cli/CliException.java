package dev.bhatti.cli;

/** A failure to report to the user as one line on stderr, with an exit code. */
final class CliException extends Exception {
    private final int httpStatus;
    private final String daemonMessage;

    CliException(String message) { this(message, 0); }

    CliException(String message, int httpStatus) { this(message, httpStatus, null); }

    /** {@code daemonMessage}: the daemon's own words ({@code error} of its reply), without the CLI's hints. */
    CliException(String message, int httpStatus, String daemonMessage) {
        super(message);
        this.httpStatus = httpStatus;
        this.daemonMessage = daemonMessage;
    }

    int httpStatus() { return httpStatus; }

    /** The daemon's message for an error reply, else this exception's message. */
    String daemonMessage() { return daemonMessage != null ? daemonMessage : getMessage(); }
}

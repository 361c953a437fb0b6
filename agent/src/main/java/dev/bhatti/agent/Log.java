package dev.bhatti.agent;

import java.time.Instant;

/** One line per event on stderr, which the guest init sends to the serial console. */
final class Log {
    private Log() {}

    static void info(String message) {
        System.err.println(Instant.now() + " bhatti-agent: " + message);
    }
}

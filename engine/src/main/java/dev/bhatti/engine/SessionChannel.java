package dev.bhatti.engine;

import java.io.IOException;

/** A client's attachment to a guest session. Closing it detaches; the session runs on. */
public interface SessionChannel extends AutoCloseable {

    GuestSession session();

    /** What happened next, waiting at most {@code millis}; null if nothing did. */
    Event next(long millis) throws IOException, InterruptedException;

    void input(byte[] bytes) throws IOException;

    void resize(int rows, int cols) throws IOException;

    void signal(int signal) throws IOException;

    /** Detaches from the session. */
    @Override
    void close();

    sealed interface Event {}

    record Output(byte[] bytes) implements Event {}

    /** The session's process ended. */
    record Exited(int exitCode) implements Event {}

    /** The attachment ended without an exit (another client took over, or the guest refused). */
    record Ended(String reason) implements Event {}
}

package dev.bhatti.engine;

import java.io.InputStream;
import java.nio.channels.SocketChannel;
import java.util.List;

/**
 * The inside of one VM, reached over its agent: commands, files, sessions and forwarded ports. A
 * handle from {@link Engine#guest}: each call reaches the VM's agent of the moment (a restore brings a
 * new connection) and fails with {@link EngineException.Kind#NOT_RUNNING} while the VM does not run.
 */
public interface Guest {

    /** Runs one command, streaming its output to {@code listener}. */
    ExecResult exec(ExecCommand command, ExecListener listener) throws EngineException;

    /**
     * Starts a command that outlives this call; its stdout and stderr go to {@code outputFile}. The
     * command's timeout and stdin are ignored.
     */
    Detached execDetached(ExecCommand command, String outputFile) throws EngineException;

    /** Reads a file into {@code sink}, streaming: nothing is held whole in memory. */
    void readFile(String path, ReadRange range, FileSink sink) throws EngineException;

    /** Replaces a file atomically with {@code content}, owned by {@code user} (empty = uid 1000). */
    GuestFile writeFile(String path, int mode, String user, InputStream content) throws EngineException;

    /** Metadata of a path, not following a final symlink. */
    GuestFile statFile(String path) throws EngineException;

    /** The entries of a directory. */
    FileListing listFiles(String path) throws EngineException;

    /**
     * Watches {@code path} (a directory recursively, or one file) until {@code sink} ends it or the path
     * itself goes; blocks. A guest that falls too far behind its reader drops the watch (FAILED).
     */
    default void watchFiles(String path, WatchSink sink) throws EngineException {
        throw new EngineException(EngineException.Kind.FAILED, "this engine cannot watch files");
    }

    /** Starts or attaches to a session. */
    SessionChannel openSession(SessionOpen open) throws EngineException;

    List<GuestSession> listSessions() throws EngineException;

    /** Sends {@code signal} to a session's process group. */
    void signalSession(String sessionId, int signal) throws EngineException;

    /**
     * Relays {@code client} to TCP {@code guestPort} on the guest's loopback until both directions end.
     * Blocks; the caller owns (and closes) the client channel. {@code beforeClientBytes} runs before each
     * piece of the client's bytes goes to the guest: a connection outlives pauses (a proxy keeps it in
     * its pool), and bytes sent into a paused VM would wait there unanswered, so the caller wakes it
     * there. If it throws, the tunnel ends.
     */
    void tunnel(int guestPort, SocketChannel client, Runnable beforeClientBytes) throws EngineException;
}

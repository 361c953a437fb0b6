package dev.bhatti.protocol;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Every message that crosses the host/agent channel. Each travels in one {@link Frame} on a stream:
 * stream 0 carries connection-level messages (hello, ping), every other stream is one operation
 * (an exec, a file transfer, a session, a forwarded connection: each kind adds message types, not transports).
 */
public sealed interface Message {

    /** Output channels of a stream; stdin flows host to guest, the others guest to host. */
    enum Channel { STDIN, STDOUT, STDERR }

    /** First message in each direction. The host refuses an agent whose major version differs. */
    record Hello(int version, String software) implements Message {
        public Hello { Objects.requireNonNull(software); }
    }

    /**
     * The agent's answer to the host's hello, on every connection and every time. Separate from
     * {@link Hello} so that the host can tell an answer (expected, even twice) from an agent that opened
     * its port anew (which loses the requests in flight). The agent's own hello can be lost: written
     * while no host is connected to QEMU's socket, it is dropped; this answer cannot be, since it
     * follows the host's hello on a connection that exists.
     */
    record HelloReply(int version, String software) implements Message {
        public HelloReply { Objects.requireNonNull(software); }
    }

    record Ping(long nonce) implements Message {}

    record Pong(long nonce) implements Message {}

    /**
     * Opens a stream that runs one command. {@code user} is empty for the default (uid 1000) or a user
     * name such as "root"; {@code timeoutMillis} 0 means no timeout; when {@code stdin} is false the
     * child's stdin is closed at once.
     */
    record ExecRequest(List<String> argv, Map<String, String> env, String cwd, String user,
                       long timeoutMillis, boolean stdin) implements Message {
        public ExecRequest {
            argv = List.copyOf(argv);
            env = Map.copyOf(env);
            Objects.requireNonNull(cwd);
            Objects.requireNonNull(user);
            if (argv.isEmpty()) throw new IllegalArgumentException("argv must not be empty");
            if (timeoutMillis < 0) throw new IllegalArgumentException("timeout must be >= 0");
        }
    }

    /**
     * Opens a stream that starts a command in the background and returns at once: it gets its own
     * session, runs as {@code user}, writes stdout and stderr to {@code outputFile} (created and owned
     * by that user) and outlives the request. The agent answers {@link Detached} or {@link Error}.
     */
    record DetachRequest(List<String> argv, Map<String, String> env, String cwd, String user, String outputFile)
            implements Message {
        public DetachRequest {
            argv = List.copyOf(argv);
            env = Map.copyOf(env);
            Objects.requireNonNull(cwd);
            Objects.requireNonNull(user);
            Objects.requireNonNull(outputFile);
            if (argv.isEmpty()) throw new IllegalArgumentException("argv must not be empty");
        }
    }

    /** A detached command started: its pid in the guest and where its output goes. */
    record Detached(long pid, String outputFile) implements Message {}

    /**
     * Opens a stream that reads a regular file: the agent answers {@link FileInfo}, then the content as
     * STDOUT data, then {@link Exit} 0 (or {@link Error}). Non-zero {@code offsetLine} (1-based),
     * {@code limitLines} or {@code maxBytes} cut the content, whichever comes first.
     */
    record FileRead(String path, long offsetLine, long limitLines, long maxBytes) implements Message {
        public FileRead { Objects.requireNonNull(path); }
    }

    /**
     * Opens a stream that replaces a file atomically: the host sends the content as STDIN data and then
     * EOF; the agent writes a temporary file beside the target, fsyncs, renames it over the target and
     * answers {@link FileInfo}. {@code user} (empty = uid 1000) owns the file and new parent directories.
     */
    record FileWrite(String path, int mode, String user) implements Message {
        public FileWrite { Objects.requireNonNull(path); Objects.requireNonNull(user); }
    }

    /** Opens a stream that answers one {@link FileInfo} about {@code path} (not following a final symlink). */
    record FileStat(String path) implements Message {
        public FileStat { Objects.requireNonNull(path); }
    }

    /** Opens a stream that answers one {@link FileList} of the directory {@code path}. */
    record FileListRequest(String path) implements Message {
        public FileListRequest { Objects.requireNonNull(path); }
    }

    /**
     * Opens a stream that watches {@code path} (a directory recursively, subdirectories created later
     * included, or one file) with inotify. The agent answers {@link FileInfo} of the path (or {@link Error}),
     * then events as STDOUT data, one JSON object a line in the API's shape, until the host ends the
     * stream (any {@link Error} or {@link Eof} from the host). The agent ends it with {@link Error}
     * "overflow" when the host stops reading, or {@link Exit} 0 when the watched path itself goes.
     */
    record FileWatch(String path) implements Message {
        public FileWatch { Objects.requireNonNull(path); }
    }

    /** One file. {@code type} is file, dir, symlink or other; {@code mode} the permission bits; mtime in ms. */
    record FileInfo(String name, long size, int mode, String type, long mtimeMillis) implements Message {
        public FileInfo { Objects.requireNonNull(name); Objects.requireNonNull(type); }
    }

    /** A directory listing; {@code total} counts all entries when more than the ones sent exist. */
    record FileList(List<FileInfo> entries, long total) implements Message {
        public FileList { entries = List.copyOf(entries); }
    }

    /**
     * Opens a stream that starts a session: a long-lived command that survives its stream and can be
     * attached to again. With {@code tty} it runs on a pseudo-terminal of {@code rows} x {@code cols};
     * without, stdout and stderr are merged. When no client is attached for {@code maxIdleSeconds}
     * (0 = never) it is killed. {@code id} names it (empty = the agent picks {@code s<n>}). The agent
     * answers {@link SessionInfo}, then output as STDOUT data.
     */
    record SessionStart(String id, List<String> argv, Map<String, String> env, String cwd, String user, boolean tty, int rows,
                        int cols, long maxIdleSeconds) implements Message {
        public SessionStart {
            Objects.requireNonNull(id);
            argv = List.copyOf(argv);
            env = Map.copyOf(env);
            Objects.requireNonNull(cwd);
            Objects.requireNonNull(user);
            if (argv.isEmpty()) throw new IllegalArgumentException("argv must not be empty");
        }
    }

    /**
     * Opens a stream attached to an existing session: {@link SessionInfo}, its scrollback, then live
     * output. A previously attached stream is detached, unless {@code ifDetached}, which refuses instead.
     */
    record SessionAttach(String sessionId, boolean ifDetached) implements Message {
        public SessionAttach { Objects.requireNonNull(sessionId); }
    }

    /** A session as the agent sees it. {@code exitCode} is meaningful once {@code running} is false. */
    record SessionInfo(String id, List<String> argv, boolean tty, boolean running, int exitCode, boolean attached,
                       long createdAtMillis) implements Message {
        public SessionInfo { argv = List.copyOf(argv); Objects.requireNonNull(id); }
    }

    /** New terminal size for the session attached to this stream. */
    record Resize(int rows, int cols) implements Message {}

    /** Detaches this stream from its session; the session runs on. */
    record Detach() implements Message {}

    /** Opens a stream answered by one {@link SessionList}. */
    record SessionListRequest() implements Message {}

    record SessionList(List<SessionInfo> sessions) implements Message {
        public SessionList { sessions = List.copyOf(sessions); }
    }

    /** Opens a stream that signals a session's process group; answered by {@link Exit} 0 or {@link Error}. */
    record SessionKill(String sessionId, int signal) implements Message {
        public SessionKill { Objects.requireNonNull(sessionId); }
    }

    /**
     * Opens a stream that relays a TCP connection to {@code port} on the guest's loopback. The agent
     * answers {@link Forwarded} once connected (or {@link Error}); then STDIN data goes to the guest
     * port and STDOUT data comes back, EOF half-closes, and {@link Exit} ends the relay.
     */
    record ForwardOpen(int port) implements Message {}

    /** The guest side of a forward is connected. */
    record Forwarded() implements Message {}

    /**
     * Opens a stream sent right after a VM resumes from a pause or a snapshot: the agent sets the
     * guest's clock to {@code epochMillis} (the guest's own stood still meanwhile), sets the hostname
     * unless empty (a snapshot resumed as a new sandbox), and mixes {@code entropy} into the kernel's
     * pool and reseeds it (else two clones of one snapshot share their random state). Unless empty,
     * {@code network} ("address/prefix,gateway,mac") is the guest's new identity on its NIC: the agent
     * readdresses eth0 and forgets its neighbours. Answered by {@link Exit} 0 or {@link Error}.
     */
    record Resumed(long epochMillis, String hostname, byte[] entropy, String network) implements Message {
        public Resumed { Objects.requireNonNull(hostname); Objects.requireNonNull(entropy); Objects.requireNonNull(network); }

        public Resumed(long epochMillis, String hostname, byte[] entropy) { this(epochMillis, hostname, entropy, ""); }
    }

    /**
     * Opens a stream that mounts the ext4 volume on the virtio disk whose serial is {@code serial} at
     * {@code path} (created with its parents if missing), read-only if asked. Sent after each boot; the
     * mount then lives in the guest's memory, through pauses and snapshots. Answered by {@link Exit} 0 or
     * {@link Error}.
     */
    record Mount(String serial, String path, boolean readOnly) implements Message {
        public Mount { Objects.requireNonNull(serial); Objects.requireNonNull(path); }
    }

    /** Bytes on one channel. Data frames consume the receiver's window for that stream. */
    record Data(Channel channel, byte[] bytes) implements Message {}

    /** No more data on this channel (for stdin: the child's stdin is closed). */
    record Eof(Channel channel) implements Message {}

    /** The receiver has consumed {@code bytes} more; the sender may send that much more. */
    record Window(int bytes) implements Message {}

    /** Asks the agent to send {@code signal} to the whole process group of the stream's command. */
    record Kill(int signal) implements Message {}

    /**
     * The command ended. {@code exitCode} follows the shell convention (128+n for signal n);
     * {@code timedOut} is set when the agent killed it because its timeout expired.
     */
    record Exit(int exitCode, boolean timedOut) implements Message {}

    /** The operation failed before or instead of an exit; the stream is finished. */
    record Error(String code, String message) implements Message {}
}

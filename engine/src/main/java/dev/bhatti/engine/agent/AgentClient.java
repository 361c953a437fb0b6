package dev.bhatti.engine.agent;

import dev.bhatti.engine.Detached;
import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.FileListing;
import dev.bhatti.engine.FileSink;
import dev.bhatti.engine.GuestFile;
import dev.bhatti.engine.GuestSession;
import dev.bhatti.engine.ReadRange;
import dev.bhatti.engine.SessionChannel;
import dev.bhatti.engine.SessionOpen;
import dev.bhatti.engine.WatchSink;
import dev.bhatti.engine.EngineException.Kind;
import dev.bhatti.engine.ExecCommand;
import dev.bhatti.engine.ExecListener;
import dev.bhatti.engine.ExecResult;
import dev.bhatti.protocol.Connection;
import dev.bhatti.protocol.FrameIO;
import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.Stream;

import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/** The host end of one VM's agent channel (a Unix socket that QEMU bridges to virtio-serial). */
public final class AgentClient implements AutoCloseable {

    /** Extra time the host waits beyond a command's own timeout before giving up on the agent. */
    private static final long HOST_GRACE_MILLIS = 30_000;
    /** A file transfer on which the agent sends nothing for this long has failed. */
    private static final long FILE_IDLE_SECONDS = 60;

    private final Connection connection;
    private final String agentSoftware;

    private AgentClient(Connection connection, String agentSoftware) {
        this.connection = connection;
        this.agentSoftware = agentSoftware;
    }

    /**
     * Connects and waits for the agent's hello. The socket accepts before the guest has booted; bytes
     * wait in it until the agent opens its port, so waiting here is waiting for the boot.
     */
    public static AgentClient connect(Path socket, long timeout, TimeUnit unit)
            throws IOException, TimeoutException, InterruptedException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return over(ch, timeout, unit);
    }

    /** Like {@link #connect} on a channel connected already; closes it on failure. */
    public static AgentClient over(SocketChannel ch, long timeout, TimeUnit unit)
            throws IOException, TimeoutException, InterruptedException {
        try {
            var connection = Connection.client(new FrameIO(Channels.newInputStream(ch), Channels.newOutputStream(ch)),
                    "bhatti-host/0.1.0");
            try {
                var hello = connection.awaitHello(timeout, unit);
                return new AgentClient(connection, hello.software());
            } catch (IOException | TimeoutException | InterruptedException | RuntimeException e) {
                connection.close();
                throw e;
            }
        } catch (IOException | TimeoutException | InterruptedException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    public String agentSoftware() { return agentSoftware; }

    public boolean isOpen() { return connection.isOpen(); }

    public CompletableFuture<Void> closedFuture() { return connection.closedFuture(); }

    public void ping(long timeout, TimeUnit unit) throws IOException, TimeoutException, InterruptedException {
        connection.ping(timeout, unit);
    }

    public ExecResult exec(ExecCommand command, ExecListener listener) throws EngineException, InterruptedException {
        long timeoutMillis = command.timeout().toMillis();
        var request = new Message.ExecRequest(command.argv(), command.env(), command.cwd(), command.user(),
                timeoutMillis, command.stdin() != null);
        Stream stream;
        try {
            stream = connection.open(request);
            if (command.stdin() != null) {
                stream.send(new Message.Data(Message.Channel.STDIN, command.stdin()));
                stream.send(new Message.Eof(Message.Channel.STDIN));
            }
        } catch (IOException e) {
            throw new EngineException(Kind.NOT_RUNNING, "the sandbox's agent is not connected: " + e.getMessage(), e);
        }
        long deadline = timeoutMillis > 0 ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis + HOST_GRACE_MILLIS) : Long.MAX_VALUE;
        try {
            while (true) {
                long left = deadline == Long.MAX_VALUE ? TimeUnit.HOURS.toNanos(1) : deadline - System.nanoTime();
                if (left <= 0) {
                    stream.send(new Message.Kill(9));
                    stream.finish();
                    throw new EngineException(Kind.FAILED, "the guest agent did not report the command's end in time");
                }
                Message m = stream.poll(left, TimeUnit.NANOSECONDS);
                switch (m) {
                    case null -> { }
                    case Message.Data d when d.channel() == Message.Channel.STDOUT -> listener.stdout(d.bytes());
                    case Message.Data d when d.channel() == Message.Channel.STDERR -> listener.stderr(d.bytes());
                    case Message.Exit x -> { return new ExecResult(x.exitCode(), x.timedOut()); }
                    case Message.Error e -> throw new EngineException(
                            e.code().equals("bad_request") ? Kind.INVALID : Kind.FAILED, e.message());
                    default -> { }
                }
            }
        } catch (IOException e) {
            stream.finish();
            throw new EngineException(Kind.FAILED, "lost the sandbox's agent during the command: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            // the caller gave up (e.g. its HTTP client left): stop the command rather than orphan it
            try { stream.send(new Message.Kill(9)); } catch (IOException ignored) { }
            stream.finish();
            throw e;
        }
    }

    public Detached detach(ExecCommand command, String outputFile) throws EngineException, InterruptedException {
        try {
            Stream stream = connection.open(new Message.DetachRequest(command.argv(), command.env(), command.cwd(),
                    command.user(), outputFile));
            Message m = stream.poll(60, TimeUnit.SECONDS);
            stream.finish();
            return switch (m) {
                case Message.Detached d -> new Detached(d.pid(), d.outputFile());
                case Message.Error e -> throw new EngineException(
                        e.code().equals("spawn_failed") ? Kind.FAILED : Kind.INVALID, e.message());
                case null -> throw new EngineException(Kind.FAILED, "the guest agent did not start the command in time");
                default -> throw new EngineException(Kind.FAILED, "unexpected reply " + m.getClass().getSimpleName());
            };
        } catch (IOException e) {
            throw new EngineException(Kind.FAILED, "lost the sandbox's agent: " + e.getMessage(), e);
        }
    }

    public void readFile(String path, ReadRange range, FileSink sink) throws EngineException, InterruptedException {
        try {
            Stream stream = connection.open(new Message.FileRead(path, range.offsetLine(), range.limitLines(), range.maxBytes()));
            try {
                while (true) {
                    Message m = stream.poll(FILE_IDLE_SECONDS, TimeUnit.SECONDS);
                    switch (m) {
                        case Message.FileInfo i -> sink.begin(file(i));
                        case Message.Data d -> sink.data(d.bytes());
                        case Message.Exit x -> { return; }
                        case Message.Error e -> throw fileError(e);
                        case null -> throw new EngineException(Kind.FAILED, "the guest agent stopped sending " + path);
                        default -> { }
                    }
                }
            } finally {
                stream.finish();
            }
        } catch (IOException e) {
            throw new EngineException(Kind.FAILED, "reading " + path + " failed: " + e.getMessage(), e);
        }
    }

    public GuestFile writeFile(String path, int mode, String user, InputStream content) throws EngineException, InterruptedException {
        Stream stream;
        try {
            stream = connection.open(new Message.FileWrite(path, mode, user));
        } catch (IOException e) {
            throw new EngineException(Kind.NOT_RUNNING, "the sandbox's agent is not connected: " + e.getMessage(), e);
        }
        try {
            byte[] buf = new byte[64 * 1024];
            int n;
            try {
                while ((n = content.readNBytes(buf, 0, buf.length)) > 0) {
                    stream.send(new Message.Data(Message.Channel.STDIN, Arrays.copyOf(buf, n)));
                }
                stream.send(new Message.Eof(Message.Channel.STDIN));
            } catch (Stream.PeerEndedException refused) {
                // the agent answered early (e.g. the path is a directory): its reply says why
            } catch (IOException e) {
                if (connection.isOpen()) {
                    // the client's upload broke: abandon the stream so the agent drops its temporary file
                    stream.send(new Message.Error("aborted", "upload interrupted"));
                    throw new EngineException(Kind.INVALID, "upload interrupted: " + e.getMessage(), e);
                }
                throw e;
            }
            Message m = stream.poll(FILE_IDLE_SECONDS, TimeUnit.SECONDS);
            return switch (m) {
                case Message.FileInfo i -> file(i);
                case Message.Error e -> throw fileError(e);
                case null -> throw new EngineException(Kind.FAILED, "the guest agent did not confirm writing " + path);
                default -> throw new EngineException(Kind.FAILED, "unexpected reply " + m.getClass().getSimpleName());
            };
        } catch (IOException e) {
            throw new EngineException(Kind.FAILED, "writing " + path + " failed: " + e.getMessage(), e);
        } finally {
            stream.finish();
        }
    }

    public GuestFile statFile(String path) throws EngineException, InterruptedException {
        return switch (single(new Message.FileStat(path))) {
            case Message.FileInfo i -> file(i);
            case Message.Error e -> throw fileError(e);
            case Message m -> throw new EngineException(Kind.FAILED, "unexpected reply " + m.getClass().getSimpleName());
        };
    }

    public FileListing listFiles(String path) throws EngineException, InterruptedException {
        return switch (single(new Message.FileListRequest(path))) {
            case Message.FileList l -> new FileListing(l.entries().stream().map(AgentClient::file).toList(), l.total());
            case Message.Error e -> throw fileError(e);
            case Message m -> throw new EngineException(Kind.FAILED, "unexpected reply " + m.getClass().getSimpleName());
        };
    }

    /**
     * Watches {@code path} in the guest, events to {@code sink} (see {@link WatchSink}). When the sink ends
     * the watch, the agent is told, and it removes the guest's watch at once.
     */
    public void watchFiles(String path, WatchSink sink) throws EngineException, InterruptedException {
        Stream stream;
        try {
            stream = connection.open(new Message.FileWatch(path));
        } catch (IOException e) {
            throw new EngineException(Kind.FAILED, "lost the sandbox's agent: " + e.getMessage(), e);
        }
        boolean agentEnded = false;
        try {
            Message first = stream.poll(FILE_IDLE_SECONDS, TimeUnit.SECONDS);
            switch (first) {
                case Message.FileInfo i -> { if (!sinkSays(() -> { sink.begin(file(i)); return true; })) return; }
                case Message.Error e -> {
                    agentEnded = true;
                    if (e.code().equals("limit")) throw new EngineException(Kind.CONFLICT, e.message());
                    throw fileError(e);
                }
                case null -> throw new EngineException(Kind.FAILED, "the guest agent did not answer a file watch");
                default -> throw new EngineException(Kind.FAILED, "unexpected reply " + first.getClass().getSimpleName());
            }
            while (true) {
                Message m = stream.poll(1, TimeUnit.SECONDS);
                switch (m) {
                    case null -> { if (!sinkSays(sink::idle)) return; }
                    case Message.Data d -> { if (!sinkSays(() -> sink.events(d.bytes()))) return; }
                    case Message.Exit x -> { agentEnded = true; return; }
                    case Message.Error e -> { agentEnded = true; throw new EngineException(Kind.FAILED, e.message()); }
                    default -> { }
                }
            }
        } catch (IOException e) {
            agentEnded = true;
            throw new EngineException(Kind.FAILED, "lost the sandbox's agent while watching " + path + ": " + e.getMessage(), e);
        } finally {
            if (!agentEnded) {
                try {
                    stream.send(new Message.Error("cancelled", "the watcher went away"));
                } catch (IOException ignored) {
                    // the channel is gone, and the guest's watch with it
                }
            }
            stream.finish();
        }
    }

    private interface SinkCall { boolean call() throws IOException; }

    /** A sink's answer; its failure (the client went away) ends the watch like a false. */
    private static boolean sinkSays(SinkCall call) {
        try {
            return call.call();
        } catch (IOException e) {
            return false;
        }
    }

    /** A request answered by exactly one message. */
    private Message single(Message request) throws EngineException, InterruptedException {
        try {
            Stream stream = connection.open(request);
            Message m = stream.poll(FILE_IDLE_SECONDS, TimeUnit.SECONDS);
            stream.finish();
            if (m == null) throw new EngineException(Kind.FAILED, "the guest agent did not answer");
            return m;
        } catch (IOException e) {
            throw new EngineException(Kind.FAILED, "lost the sandbox's agent: " + e.getMessage(), e);
        }
    }

    private static GuestFile file(Message.FileInfo i) {
        return new GuestFile(i.name(), i.size(), i.mode(), i.type(), i.mtimeMillis());
    }

    private static EngineException fileError(Message.Error e) {
        Kind kind = switch (e.code()) {
            case "not_found" -> Kind.MISSING;
            case "is_directory", "not_directory", "not_regular", "conflict" -> Kind.CONFLICT;
            case "bad_request", "permission_denied" -> Kind.INVALID;
            default -> Kind.FAILED;
        };
        return new EngineException(kind, e.message());
    }

    public SessionChannel openSession(SessionOpen open) throws EngineException, InterruptedException {
        Message request = switch (open) {
            case SessionOpen.Start st -> new Message.SessionStart(st.id(), st.argv(), st.env(), st.cwd(), st.user(), st.tty(),
                    st.rows(), st.cols(), st.maxIdleSeconds());
            case SessionOpen.Attach a -> new Message.SessionAttach(a.sessionId(), a.ifDetached());
        };
        Stream stream;
        Message first;
        try {
            stream = connection.open(request);
            first = stream.poll(30, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new EngineException(Kind.FAILED, "lost the sandbox's agent: " + e.getMessage(), e);
        }
        return switch (first) {
            case Message.SessionInfo info -> new AgentSession(stream, session(info));
            case Message.Error e -> {
                stream.finish();
                throw new EngineException(switch (e.code()) {
                    case "not_found" -> Kind.MISSING;
                    case "attached", "limit" -> Kind.CONFLICT;
                    case "bad_request", "not_runnable" -> Kind.INVALID;
                    default -> Kind.FAILED;
                }, e.message());
            }
            case null -> {
                stream.finish();
                throw new EngineException(Kind.FAILED, "the guest agent did not open the session in time");
            }
            default -> {
                stream.finish();
                throw new EngineException(Kind.FAILED, "unexpected reply " + first.getClass().getSimpleName());
            }
        };
    }

    public List<GuestSession> listSessions() throws EngineException, InterruptedException {
        return switch (single(new Message.SessionListRequest())) {
            case Message.SessionList l -> l.sessions().stream().map(AgentClient::session).toList();
            case Message.Error e -> throw new EngineException(Kind.FAILED, e.message());
            case Message m -> throw new EngineException(Kind.FAILED, "unexpected reply " + m.getClass().getSimpleName());
        };
    }

    public void signalSession(String sessionId, int signal) throws EngineException, InterruptedException {
        switch (single(new Message.SessionKill(sessionId, signal))) {
            case Message.Exit x -> { }
            case Message.Error e -> throw new EngineException(e.code().equals("not_found") ? Kind.MISSING : Kind.INVALID, e.message());
            case Message m -> throw new EngineException(Kind.FAILED, "unexpected reply " + m.getClass().getSimpleName());
        }
    }

    /**
     * Tells the agent the VM just resumed: it corrects the clock, and takes a hostname, entropy and a
     * network identity ({@link dev.bhatti.engine.GuestNet#wire()}) if given.
     */
    public void resumed(long epochMillis, String hostname, byte[] entropy, String network) throws EngineException, InterruptedException {
        switch (single(new Message.Resumed(epochMillis, hostname, entropy, network))) {
            case Message.Exit x -> { }
            case Message.Error e -> throw new EngineException(Kind.FAILED, "after resume: " + e.message());
            case Message m -> throw new EngineException(Kind.FAILED, "unexpected reply " + m.getClass().getSimpleName());
        }
    }

    /** Mounts the volume on the disk with serial {@code serial} at {@code path} in the guest. */
    public void mount(String serial, String path, boolean readOnly) throws EngineException, InterruptedException {
        switch (single(new Message.Mount(serial, path, readOnly))) {
            case Message.Exit x -> { }
            case Message.Error e -> throw new EngineException(e.code().equals("unsupported") ? Kind.FAILED : Kind.INVALID,
                    "mounting a volume at " + path + ": " + e.message()
                            + (e.code().equals("unsupported") ? " (the guest agent is older than volumes: rebuild the tier)" : ""));
            case Message m -> throw new EngineException(Kind.FAILED, "unexpected reply " + m.getClass().getSimpleName());
        }
    }

    /**
     * Like {@link #resumed} without waiting: the request is on the wire (ahead of any later request)
     * when this returns, and a failure is handed to {@code onFailure}.
     */
    public void resumedAsync(long epochMillis, Consumer<String> onFailure) {
        try {
            Stream stream = connection.open(new Message.Resumed(epochMillis, "", new byte[0]));
            Thread.ofVirtual().start(() -> {
                try {
                    Message m = stream.poll(FILE_IDLE_SECONDS, TimeUnit.SECONDS);
                    if (m instanceof Message.Error e) onFailure.accept(e.message());
                    else if (m == null) onFailure.accept("no answer");
                } catch (IOException e) {
                    onFailure.accept(e.getMessage());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    stream.finish();
                }
            });
        } catch (IOException e) {
            onFailure.accept(e.getMessage());
        }
    }

    /**
     * Relays {@code client} to the guest's TCP {@code port} until both directions end. {@code wake} runs
     * before each piece of the client's bytes goes to the guest, and each second the guest has not yet
     * answered the opening: the VM may be paused under a connection (see {@code Guest.tunnel}).
     */
    public void tunnel(int port, SocketChannel client, Runnable wake) throws EngineException, InterruptedException {
        new AgentTunnel(connection).relay(port, client, wake);
    }

    private static GuestSession session(Message.SessionInfo i) {
        return new GuestSession(i.id(), i.argv(), i.tty(), i.running(), i.running() ? null : i.exitCode(), i.attached(),
                i.createdAtMillis());
    }

    @Override
    public void close() {
        connection.close();
    }
}

package dev.bhatti.engine.agent;

import dev.bhatti.engine.Detached;
import dev.bhatti.engine.EngineException;
import dev.bhatti.engine.EngineException.Kind;
import dev.bhatti.engine.ExecCommand;
import dev.bhatti.engine.ExecListener;
import dev.bhatti.engine.ExecResult;
import dev.bhatti.protocol.Connection;
import dev.bhatti.protocol.FrameIO;
import dev.bhatti.protocol.Message;
import dev.bhatti.protocol.Stream;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The host end of one VM's agent channel (a Unix socket that QEMU bridges to virtio-serial). */
public final class AgentClient implements AutoCloseable {

    /** Extra time the host waits beyond a command's own timeout before giving up on the agent. */
    private static final long HOST_GRACE_MILLIS = 30_000;

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

    @Override
    public void close() {
        connection.close();
    }
}

package dev.bhatti.agent;

import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Semaphore;

/**
 * The guest's {@code systemctl}: a small script sends its arguments (tab-separated, one line) to this
 * Unix socket and prints what comes back: lines for stdout, lines starting {@code \0E } for stderr, and
 * last {@code \0EXIT n}, its exit status. Everyone may connect (mode 0666); the kernel names the caller
 * (SO_PEERCRED) and {@link SystemctlPolicy} lets uid 1000 look at services and only root change them.
 * A caller that is not root is held to a short request, a few connections at once and a deadline.
 */
final class SystemctlServer {

    /**
     * What one connection may cost the agent.
     *
     * @param maxRequestBytes           the longest command line read; a longer one is refused unread
     * @param unprivilegedAtOnce        connections of non-root callers served at once; more are answered "busy"
     * @param requestTimeoutMillis      how long anyone may take to send the command line
     * @param unprivilegedTimeoutMillis how long a non-root caller's whole connection may last (its verbs answer at once)
     */
    record Limits(int maxRequestBytes, int unprivilegedAtOnce, long requestTimeoutMillis, long unprivilegedTimeoutMillis) {
        static final Limits DEFAULT = new Limits(64 * 1024, 8, 10_000, 30_000);
    }

    private final SystemctlCommands commands;
    private final Limits limits;
    private final Semaphore unprivileged;
    /** uid 0 whatever its name ("0" is looked up as a number: no user may be named so). */
    private final UserPrincipal root;

    SystemctlServer(ServiceManager services) throws IOException { this(services, Limits.DEFAULT); }

    SystemctlServer(ServiceManager services, Limits limits) throws IOException {
        this.commands = new SystemctlCommands(services);
        this.limits = limits;
        this.unprivileged = new Semaphore(limits.unprivilegedAtOnce());
        this.root = FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName("0");
    }

    /** Connections of non-root callers that could be served now. */
    int unprivilegedFree() { return unprivileged.availablePermits(); }

    /** Listens on {@code socket} until the returned channel is closed. */
    ServerSocketChannel serve(Path socket) throws IOException {
        Files.createDirectories(socket.getParent());
        Files.deleteIfExists(socket);
        var server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        Thread.ofVirtual().name("systemctl").start(() -> accept(server));
        return server;
    }

    private void accept(ServerSocketChannel server) {
        while (server.isOpen()) {
            try {
                SocketChannel client = server.accept();
                Thread.ofVirtual().start(() -> handle(client));
            } catch (IOException e) {
                if (!server.isOpen()) return;
                // out of descriptors, say: keep serving once some are free, without spinning
                Log.info("systemctl: accept failed: " + e.getMessage());
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    private void handle(SocketChannel client) {
        var caller = caller(client);
        if (!caller.root() && !unprivileged.tryAcquire()) {
            reply(client, SystemctlCommands.Reply.error("systemctl: too many requests at once; try again", 1));
            close(client);
            return;
        }
        // A caller that sends nothing, or reads nothing back, loses its connection instead of holding it.
        Thread watchdog = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(caller.root() ? limits.requestTimeoutMillis() : limits.unprivilegedTimeoutMillis());
                close(client);
            } catch (InterruptedException e) {
                // done in time
            }
        });
        try (client) {
            byte[] request = readRequest(new BufferedInputStream(Channels.newInputStream(client)));
            if (caller.root()) watchdog.interrupt(); // root's own commands (a start) may take long
            if (request == null) return;
            reply(client, answer(request, caller));
        } catch (IOException e) {
            // the client went away, or the watchdog closed it
        } finally {
            watchdog.interrupt();
            if (!caller.root()) unprivileged.release();
        }
    }

    /** The reply to one command line, from {@code caller}. */
    SystemctlCommands.Reply answer(byte[] request, SystemctlPolicy.Caller caller) {
        if (request.length > limits.maxRequestBytes()) {
            return SystemctlCommands.Reply.error("systemctl: the command line is longer than " + limits.maxRequestBytes() + " bytes", 1);
        }
        String line = new String(request, StandardCharsets.UTF_8);
        List<String> args = line.isEmpty() ? List.of() : Arrays.asList(line.split("\t", -1));
        SystemctlRequest parsed;
        try {
            parsed = SystemctlRequest.parse(args);
        } catch (IllegalArgumentException e) {
            return SystemctlCommands.Reply.error("systemctl: " + e.getMessage(), 1);
        }
        var decision = SystemctlPolicy.decide(parsed, caller);
        if (!decision.allowed()) return SystemctlCommands.Reply.error(decision.message(), decision.exitCode());
        return commands.run(parsed);
    }

    /**
     * The command line up to its newline (or the end of the stream): null if the caller sent nothing,
     * and at most {@code maxRequestBytes} + 1 bytes, which {@link #answer} refuses, if it is longer.
     */
    private byte[] readRequest(InputStream in) throws IOException {
        var line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            line.write(b);
            if (line.size() > limits.maxRequestBytes()) break;
        }
        return b == -1 && line.size() == 0 ? null : line.toByteArray();
    }

    /** Who is at the other end of {@code client}; anyone the kernel cannot name is treated as not root. */
    private SystemctlPolicy.Caller caller(SocketChannel client) {
        try {
            UnixDomainPrincipal peer = client.getOption(ExtendedSocketOptions.SO_PEERCRED);
            return new SystemctlPolicy.Caller(peer.user().getName(), peer.user().equals(root));
        } catch (IOException | UnsupportedOperationException e) {
            return new SystemctlPolicy.Caller("this user", false);
        }
    }

    /** The reply on the wire; NULs in the text are dropped, so nothing printed can pose as the exit line. */
    static byte[] encode(SystemctlCommands.Reply reply) {
        var text = new StringBuilder(reply.out().replace("\0", ""));
        if (!text.isEmpty() && text.charAt(text.length() - 1) != '\n') text.append('\n');
        reply.err().replace("\0", "").lines().forEach(l -> text.append("\0E ").append(l).append('\n'));
        text.append("\0EXIT ").append(reply.code()).append('\n');
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void reply(SocketChannel client, SystemctlCommands.Reply reply) {
        try {
            var buf = ByteBuffer.wrap(encode(reply));
            while (buf.hasRemaining()) client.write(buf);
        } catch (IOException e) {
            // the client went away
        }
    }

    private static void close(SocketChannel client) {
        try {
            client.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}

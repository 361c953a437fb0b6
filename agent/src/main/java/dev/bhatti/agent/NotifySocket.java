package dev.bhatti.agent;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import java.util.function.Consumer;

/**
 * The sd_notify datagram socket of one Type=notify service ({@code NOTIFY_SOCKET}). One socket per
 * service, so a message's sender needs no credentials check: whoever can write to it speaks for the
 * unit. The JDK has no Unix datagram sockets, hence libc. {@link #receive} blocks: platform threads only.
 */
final class NotifySocket implements AutoCloseable {

    private static final MethodHandle SOCKET = Native.fn("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = Native.fn("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle POLL = Native.fn("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle RECV = Native.fn("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle CLOSE = Native.fn("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private static final int AF_UNIX = 1, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0x80000, POLLIN = 1;
    private static final int SUN_PATH = 108;
    /** sd_notify messages are small; systemd itself caps them at a page-ish size. */
    private static final int MAX_MESSAGE = 4096;

    private final Path path;
    private final int fd;
    private volatile boolean closed;

    private NotifySocket(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    /**
     * Binds a fresh socket at {@code path} (replacing a stale one), writable by every user, and hands
     * every message to {@code onMessage} until {@link #close}.
     */
    static NotifySocket open(Path path, Consumer<String> onMessage) throws IOException {
        byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        if (name.length >= SUN_PATH) throw new IOException("notify socket path too long: " + path);
        Files.createDirectories(path.getParent());
        Files.deleteIfExists(path);
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) SOCKET.invokeExact(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) throw new IOException("socket(AF_UNIX, SOCK_DGRAM) failed");
            MemorySegment addr = arena.allocate(2 + SUN_PATH);
            addr.set(JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(name, 0, addr, JAVA_BYTE, 2, name.length);
            try {
                if ((int) BIND.invokeExact(fd, addr, 2 + name.length + 1) != 0) throw new IOException("cannot bind notify socket " + path);
                // services may run as another User=; sd_notify only needs to send to the socket
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw-rw-"));
            } catch (IOException e) {
                int ignored = (int) CLOSE.invokeExact(fd);
                throw e;
            }
            var socket = new NotifySocket(path, fd);
            socket.listen(onMessage);
            return socket;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("notify socket " + path + ": " + t, t);
        }
    }

    Path path() { return path; }

    /** A platform thread of its own reads; it alone closes the descriptor, so none is reused under a pending poll. */
    private void listen(Consumer<String> onMessage) {
        Thread.ofPlatform().daemon().name("notify-" + path.getFileName()).start(() -> {
            try {
                while (!closed) {
                    String m = receive(250);
                    if (m != null && !closed) onMessage.accept(m);
                }
            } finally {
                try {
                    int ignored = (int) CLOSE.invokeExact(fd);
                    Files.deleteIfExists(path);
                } catch (Throwable ignored) {
                    // already gone
                }
            }
        });
    }

    private String receive(int timeoutMillis) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pollfd = arena.allocate(8);
            pollfd.set(JAVA_INT, 0, fd);
            pollfd.set(JAVA_SHORT, 4, (short) POLLIN);
            int ready = (int) POLL.invokeExact(pollfd, 1L, timeoutMillis);
            if (ready <= 0) return null;
            MemorySegment buf = arena.allocate(MAX_MESSAGE);
            long n = (long) RECV.invokeExact(fd, buf, (long) MAX_MESSAGE, 0);
            if (n <= 0) return null;
            return new String(buf.asSlice(0, n).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
        } catch (Throwable t) {
            return null;
        }
    }

    /** Stops listening; the listener thread closes the socket within a poll interval. */
    @Override
    public void close() {
        closed = true;
    }
}

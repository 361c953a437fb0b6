package dev.bhatti.agent;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * One inotify instance (inotify(7)) through libc. Reads go through {@link Native#poll} and {@link Native#read},
 * which block: use it from a platform thread.
 */
final class Inotify implements AutoCloseable {

    static final int IN_MODIFY = 0x2, IN_ATTRIB = 0x4, IN_MOVED_FROM = 0x40, IN_MOVED_TO = 0x80, IN_CREATE = 0x100,
            IN_DELETE = 0x200, IN_DELETE_SELF = 0x400, IN_MOVE_SELF = 0x800, IN_UNMOUNT = 0x2000, IN_Q_OVERFLOW = 0x4000,
            IN_IGNORED = 0x8000, IN_ONLYDIR = 0x01000000, IN_DONT_FOLLOW = 0x02000000, IN_EXCL_UNLINK = 0x04000000,
            IN_ISDIR = 0x40000000;
    static final int ENOENT = 2, ENOTDIR = 20, ENOSPC = 28;
    private static final int IN_NONBLOCK = 0x800, IN_CLOEXEC = 0x80000;

    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final VarHandle ERRNO_HANDLE = Linker.Option.captureStateLayout()
            .varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle INIT1 = Native.fn("inotify_init1", FunctionDescriptor.of(JAVA_INT, JAVA_INT), ERRNO);
    private static final MethodHandle ADD_WATCH = Native.fn("inotify_add_watch",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle RM_WATCH = Native.fn("inotify_rm_watch", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));

    /** One event as the kernel reports it; {@code name} is empty for an event on the watched item itself. */
    record Event(int wd, int mask, int cookie, String name) {
        boolean is(int bits) { return (mask & bits) != 0; }
    }

    private final int fd;
    private volatile boolean closed;

    private Inotify(int fd) { this.fd = fd; }

    static Inotify open() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            int fd = (int) INIT1.invokeExact(state, IN_NONBLOCK | IN_CLOEXEC);
            if (fd < 0) throw new IOException("inotify_init1 failed (errno " + (int) ERRNO_HANDLE.get(state, 0L) + ")");
            return new Inotify(fd);
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("inotify_init1 failed", t);
        }
    }

    /** Adds (or updates) a watch; returns its descriptor, or minus the errno (ENOENT, ENOTDIR, ENOSPC, ...). */
    int addWatch(String path, int mask) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            int wd = (int) ADD_WATCH.invokeExact(state, fd, arena.allocateFrom(path), mask);
            return wd >= 0 ? wd : -(int) ERRNO_HANDLE.get(state, 0L);
        } catch (Throwable t) {
            throw new IOException("inotify_add_watch failed", t);
        }
    }

    void removeWatch(int wd) {
        try {
            int ignored = (int) RM_WATCH.invokeExact(fd, wd);
        } catch (Throwable ignored) {
            // the watch is gone already
        }
    }

    /** Events available within {@code timeoutMillis}; empty on a timeout. Blocks. */
    List<Event> read(byte[] buf, int timeoutMillis) throws IOException {
        if (closed) throw new IOException("inotify instance closed");
        short[] revents = Native.poll(new int[]{fd}, timeoutMillis);
        if ((revents[0] & Native.POLLIN) == 0) return List.of();
        int n = Native.read(fd, buf);
        return n <= 0 ? List.of() : parse(buf, n);
    }

    /** Splits a read buffer into events (struct inotify_event: wd, mask, cookie, len, then a NUL-padded name). */
    static List<Event> parse(byte[] buf, int n) {
        var events = new ArrayList<Event>();
        ByteBuffer b = ByteBuffer.wrap(buf, 0, n).order(ByteOrder.nativeOrder());
        while (b.remaining() >= 16) {
            int wd = b.getInt(), mask = b.getInt(), cookie = b.getInt(), len = b.getInt();
            if (len < 0 || len > b.remaining()) break;
            int start = b.position(), end = start;
            while (end < start + len && buf[end] != 0) end++;
            events.add(new Event(wd, mask, cookie, new String(buf, start, end - start, StandardCharsets.UTF_8)));
            b.position(start + len);
        }
        return events;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        Native.close(fd); // removes every watch of this instance
    }
}

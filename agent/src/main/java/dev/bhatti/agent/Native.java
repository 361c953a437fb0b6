package dev.bhatti.agent;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Process spawning and raw file descriptors through libc. Children are started with posix_spawn (a
 * JVM must never fork) as leaders of a new session, so that signals and kills reach their whole group.
 * {@link #read} and {@link #waitpid} block: call them on platform threads.
 */
final class Native {

    private static final Linker L = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final VarHandle ERRNO_HANDLE = Linker.Option.captureStateLayout()
            .varHandle(MemoryLayout.PathElement.groupElement("errno"));

    static MethodHandle fn(String name, FunctionDescriptor d, Linker.Option... o) {
        return L.downcallHandle(L.defaultLookup().find(name).orElseThrow(), d, o);
    }

    private static final MethodHandle READ = fn("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), ERRNO);
    private static final MethodHandle WRITE = fn("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), ERRNO);
    private static final MethodHandle CLOSE = fn("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle PIPE2 = fn("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle WAITPID = fn("waitpid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle FA_INIT = fn("posix_spawn_file_actions_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle FA_DESTROY = fn("posix_spawn_file_actions_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle FA_OPEN = fn("posix_spawn_file_actions_addopen",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    static final MethodHandle FA_DUP2 = fn("posix_spawn_file_actions_adddup2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle FA_CLOSEFROM = fn("posix_spawn_file_actions_addclosefrom_np", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle FA_CHDIR = fn("posix_spawn_file_actions_addchdir_np", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle ATTR_INIT = fn("posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ATTR_DESTROY = fn("posix_spawnattr_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ATTR_SETFLAGS = fn("posix_spawnattr_setflags", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT));
    private static final MethodHandle ATTR_SETSIGMASK = fn("posix_spawnattr_setsigmask", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle ATTR_SETSIGDEFAULT = fn("posix_spawnattr_setsigdefault", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SIGEMPTYSET = fn("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle SIGFILLSET = fn("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle POLL = fn("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), ERRNO);
    /** syscall(2) with one variadic int argument after the number and before the flags. */
    private static final MethodHandle SYSCALL_2 = fn("syscall", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT),
            ERRNO, Linker.Option.firstVariadicArg(1));
    /** pidfd_open: the same number on every architecture (the generic system call table). */
    private static final long SYS_PIDFD_OPEN = 434;
    private static final MethodHandle POSIX_SPAWNP = fn("posix_spawnp",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));

    static final int O_RDONLY = 0, O_RDWR = 2, O_NOCTTY = 0x100, O_CLOEXEC = 0x80000;
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08, POSIX_SPAWN_SETSID = 0x80;
    private static final int EINTR = 4;

    private Native() {}

    static final int ENOENT = 2, EACCES = 13;

    /** posix_spawn refused: {@code errno} says why (ENOENT, EACCES, ...). */
    static final class SpawnError extends IOException {
        final int errno;

        SpawnError(String program, int errno) {
            super("could not start " + program + " (errno " + errno + ")");
            this.errno = errno;
        }
    }

    /** Adds the child's stdin/stdout/stderr set-up to the file actions. */
    interface StdioActions {
        void add(Arena arena, MemorySegment actions) throws Throwable;
    }

    /**
     * Starts {@code program} (a path, or a name searched in the agent's PATH) with {@code argv} in a new
     * session; returns its pid.
     */
    static long spawn(String program, List<String> argv, Map<String, String> env, String cwd, StdioActions stdio) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment actions = arena.allocate(256);
            MemorySegment attr = arena.allocate(512);
            check((int) FA_INIT.invokeExact(actions), "file_actions_init");
            check((int) ATTR_INIT.invokeExact(attr), "spawnattr_init");
            try {
                stdio.add(arena, actions);
                check((int) FA_CLOSEFROM.invokeExact(actions, 3), "addclosefrom");
                check((int) FA_CHDIR.invokeExact(actions, arena.allocateFrom(cwd)), "addchdir");
                check((int) ATTR_SETFLAGS.invokeExact(attr, (short) (POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)), "setflags");
                MemorySegment none = arena.allocate(256);
                check((int) SIGEMPTYSET.invokeExact(none), "sigemptyset");
                check((int) ATTR_SETSIGMASK.invokeExact(attr, none), "setsigmask");
                MemorySegment all = arena.allocate(256);
                check((int) SIGFILLSET.invokeExact(all), "sigfillset");
                check((int) ATTR_SETSIGDEFAULT.invokeExact(attr, all), "setsigdefault");
                MemorySegment pidOut = arena.allocate(JAVA_INT);
                int rc = (int) POSIX_SPAWNP.invokeExact(pidOut, arena.allocateFrom(program), actions, attr,
                        strings(arena, argv), strings(arena, env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()));
                if (rc != 0) throw new SpawnError(program, rc);
                return pidOut.get(JAVA_INT, 0);
            } finally {
                int ignored = (int) FA_DESTROY.invokeExact(actions);
                ignored = (int) ATTR_DESTROY.invokeExact(attr);
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("spawning " + program + " failed: " + t, t);
        }
    }

    static final short POLLIN = 0x1;

    /**
     * Waits until one of {@code fds} can be read (or has hung up), at most {@code timeoutMillis} (-1: no
     * limit). Returns each descriptor's revents, all 0 on a timeout or an interrupted wait. Blocks.
     */
    static short[] poll(int[] fds, int timeoutMillis) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(8L * fds.length, 4); // struct pollfd {int fd; short events; short revents;}
            for (int i = 0; i < fds.length; i++) {
                set.set(JAVA_INT, 8L * i, fds[i]);
                set.set(JAVA_SHORT, 8L * i + 4, POLLIN);
            }
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            int rc = (int) POLL.invokeExact(state, set, (long) fds.length, timeoutMillis);
            short[] revents = new short[fds.length];
            if (rc < 0) {
                if ((int) ERRNO_HANDLE.get(state, 0L) == EINTR) return revents;
                throw new IOException("poll failed (errno " + (int) ERRNO_HANDLE.get(state, 0L) + ")");
            }
            for (int i = 0; i < fds.length; i++) revents[i] = set.get(JAVA_SHORT, 8L * i + 6);
            return revents;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("poll failed", t);
        }
    }

    /** A descriptor that becomes readable when child {@code pid} exits (pidfd_open(2), Linux 5.3), closed on exec. */
    static int pidfdOpen(long pid) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            long fd = (long) SYSCALL_2.invokeExact(state, SYS_PIDFD_OPEN, (int) pid, 0);
            if (fd < 0) throw new IOException("pidfd_open failed (errno " + (int) ERRNO_HANDLE.get(state, 0L) + ")");
            return (int) fd;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("pidfd_open failed", t);
        }
    }

    /** A pipe whose ends are closed on exec; returns {read, write}. */
    static int[] pipe() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            check((int) PIPE2.invokeExact(fds, O_CLOEXEC), "pipe2");
            return new int[]{fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("pipe2 failed", t);
        }
    }

    private static MemorySegment strings(Arena arena, List<String> values) {
        MemorySegment array = arena.allocate(ADDRESS, values.size() + 1);
        for (int i = 0; i < values.size(); i++) array.setAtIndex(ADDRESS, i, arena.allocateFrom(values.get(i)));
        array.setAtIndex(ADDRESS, values.size(), MemorySegment.NULL);
        return array;
    }

    static void check(int rc, String what) throws IOException {
        if (rc != 0) throw new IOException(what + " failed (" + rc + ")");
    }

    /** Reads up to {@code buf.length} bytes; -1 at end of file or when the other side is gone. Blocks. */
    static int read(int fd, byte[] buf) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(buf.length);
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            while (true) {
                long n = (long) READ.invokeExact(state, fd, seg, (long) buf.length);
                if (n > 0) {
                    MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, 0, buf, 0, (int) n);
                    return (int) n;
                }
                if (n == 0) return -1;
                if ((int) ERRNO_HANDLE.get(state, 0L) == EINTR) continue;
                return -1; // EIO from a terminal whose slave closed, EBADF after close
            }
        } catch (Throwable t) {
            throw new IOException("read failed", t);
        }
    }

    static void write(int fd, byte[] data) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocateFrom(ValueLayout.JAVA_BYTE, data);
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            long off = 0;
            while (off < data.length) {
                long n = (long) WRITE.invokeExact(state, fd, seg.asSlice(off), (long) data.length - off);
                if (n < 0) {
                    if ((int) ERRNO_HANDLE.get(state, 0L) == EINTR) continue;
                    throw new IOException("write failed");
                }
                off += n;
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("write failed", t);
        }
    }

    static void close(int fd) {
        if (fd < 0) return;
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable ignored) {
            // nothing to do
        }
    }

    /** Waits for a child and returns its exit code (128 + signal if killed). Blocks. */
    static int waitpid(long pid) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment status = arena.allocate(JAVA_INT);
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            while (true) {
                int rc = (int) WAITPID.invokeExact(state, (int) pid, status, 0);
                if (rc == pid) {
                    int s = status.get(JAVA_INT, 0);
                    int sig = s & 0x7f;
                    return sig == 0 ? (s >> 8) & 0xff : 128 + sig;
                }
                if (rc < 0 && (int) ERRNO_HANDLE.get(state, 0L) == EINTR) continue;
                throw new IOException("waitpid failed");
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("waitpid failed", t);
        }
    }
}

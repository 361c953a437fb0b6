package dev.bhatti.agent;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A pseudo-terminal and a process running on it, through libc (the JDK has neither). The child is
 * started with posix_spawn (never fork from a JVM) as the leader of a new session, with the terminal's
 * slave side as stdin/stdout/stderr, so the terminal becomes its controlling tty. Blocking calls
 * ({@link #read}, {@link #waitFor}) pin their thread: run them on platform threads.
 */
final class Pty implements AutoCloseable {

    private static final Linker L = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final VarHandle ERRNO_HANDLE = Linker.Option.captureStateLayout()
            .varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

    private static MethodHandle fn(String name, FunctionDescriptor d, Linker.Option... o) {
        return L.downcallHandle(L.defaultLookup().find(name).orElseThrow(), d, o);
    }

    private static final MethodHandle POSIX_OPENPT = fn("posix_openpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle GRANTPT = fn("grantpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle UNLOCKPT = fn("unlockpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle PTSNAME_R = fn("ptsname_r", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle IOCTL_PTR = fn("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle READ = fn("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), ERRNO);
    private static final MethodHandle WRITE = fn("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), ERRNO);
    private static final MethodHandle CLOSE = fn("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle WAITPID = fn("waitpid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle FA_INIT = fn("posix_spawn_file_actions_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle FA_DESTROY = fn("posix_spawn_file_actions_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle FA_OPEN = fn("posix_spawn_file_actions_addopen",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle FA_DUP2 = fn("posix_spawn_file_actions_adddup2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle FA_CLOSEFROM = fn("posix_spawn_file_actions_addclosefrom_np", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle FA_CHDIR = fn("posix_spawn_file_actions_addchdir_np", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle ATTR_INIT = fn("posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ATTR_DESTROY = fn("posix_spawnattr_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ATTR_SETFLAGS = fn("posix_spawnattr_setflags", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT));
    private static final MethodHandle ATTR_SETSIGMASK = fn("posix_spawnattr_setsigmask", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle ATTR_SETSIGDEFAULT = fn("posix_spawnattr_setsigdefault", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SIGEMPTYSET = fn("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle SIGFILLSET = fn("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle POSIX_SPAWNP = fn("posix_spawnp",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));

    private static final int O_RDWR = 2, O_NOCTTY = 0x100;
    private static final long TIOCSWINSZ = 0x5414;
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08, POSIX_SPAWN_SETSID = 0x80;
    private static final int EINTR = 4;

    private final int master;
    private final long pid;
    private volatile boolean closed;

    private Pty(int master, long pid) {
        this.master = master;
        this.pid = pid;
    }

    long pid() { return pid; }

    /** Starts {@code argv} (searched in the agent's PATH) on a new terminal of the given size. */
    static Pty spawn(List<String> argv, Map<String, String> env, String cwd, int rows, int cols) throws IOException {
        int master;
        try {
            master = (int) POSIX_OPENPT.invokeExact(O_RDWR | O_NOCTTY);
        } catch (Throwable t) {
            throw new IOException("posix_openpt failed", t);
        }
        if (master < 0) throw new IOException("no pseudo-terminal available");
        try (Arena arena = Arena.ofConfined()) {
            check((int) GRANTPT.invokeExact(master), "grantpt");
            check((int) UNLOCKPT.invokeExact(master), "unlockpt");
            MemorySegment name = arena.allocate(128);
            check((int) PTSNAME_R.invokeExact(master, name, 128L), "ptsname_r");
            resize(master, rows, cols);

            MemorySegment actions = arena.allocate(256);
            MemorySegment attr = arena.allocate(512);
            MemorySegment sigs = arena.allocate(256);
            check((int) FA_INIT.invokeExact(actions), "file_actions_init");
            check((int) ATTR_INIT.invokeExact(attr), "spawnattr_init");
            try {
                check((int) FA_OPEN.invokeExact(actions, 0, name, O_RDWR, 0), "addopen");
                check((int) FA_DUP2.invokeExact(actions, 0, 1), "adddup2");
                check((int) FA_DUP2.invokeExact(actions, 0, 2), "adddup2");
                check((int) FA_CLOSEFROM.invokeExact(actions, 3), "addclosefrom");
                check((int) FA_CHDIR.invokeExact(actions, arena.allocateFrom(cwd)), "addchdir");
                check((int) ATTR_SETFLAGS.invokeExact(attr, (short) (POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)), "setflags");
                check((int) SIGEMPTYSET.invokeExact(sigs), "sigemptyset");
                check((int) ATTR_SETSIGMASK.invokeExact(attr, sigs), "setsigmask");
                MemorySegment all = arena.allocate(256);
                check((int) SIGFILLSET.invokeExact(all), "sigfillset");
                check((int) ATTR_SETSIGDEFAULT.invokeExact(attr, all), "setsigdefault");

                MemorySegment pidOut = arena.allocate(JAVA_INT);
                int rc = (int) POSIX_SPAWNP.invokeExact(pidOut, arena.allocateFrom(argv.getFirst()), actions, attr,
                        strings(arena, argv), strings(arena, env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()));
                if (rc != 0) throw new IOException("could not start " + argv.getFirst() + " (errno " + rc + ")");
                return new Pty(master, pidOut.get(JAVA_INT, 0));
            } finally {
                int ignored = (int) FA_DESTROY.invokeExact(actions);
                ignored = (int) ATTR_DESTROY.invokeExact(attr);
            }
        } catch (IOException e) {
            closeFd(master);
            throw e;
        } catch (Throwable t) {
            closeFd(master);
            throw new IOException("spawning on a terminal failed: " + t, t);
        }
    }

    private static MemorySegment strings(Arena arena, List<String> values) {
        MemorySegment array = arena.allocate(ADDRESS, values.size() + 1);
        for (int i = 0; i < values.size(); i++) array.setAtIndex(ADDRESS, i, arena.allocateFrom(values.get(i)));
        array.setAtIndex(ADDRESS, values.size(), MemorySegment.NULL);
        return array;
    }

    private static void check(int rc, String what) throws IOException {
        if (rc != 0) throw new IOException(what + " failed (" + rc + ")");
    }

    void resize(int rows, int cols) throws IOException {
        if (!closed) resize(master, rows, cols);
    }

    private static void resize(int fd, int rows, int cols) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ws = arena.allocate(8);
            ws.set(JAVA_SHORT, 0, (short) rows);
            ws.set(JAVA_SHORT, 2, (short) cols);
            check((int) IOCTL_PTR.invokeExact(fd, TIOCSWINSZ, ws), "TIOCSWINSZ");
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("resize failed", t);
        }
    }

    /** Reads terminal output; -1 once the terminal is gone (every process on it exited). Blocks. */
    int read(byte[] buf) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(buf.length);
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            while (true) {
                long n = (long) READ.invokeExact(state, master, seg, (long) buf.length);
                if (n > 0) {
                    MemorySegment.copy(seg, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, buf, 0, (int) n);
                    return (int) n;
                }
                if (n == 0) return -1;
                int errno = (int) ERRNO_HANDLE.get(state, 0L);
                if (errno == EINTR) continue;
                return -1; // EIO: the slave side closed
            }
        } catch (Throwable t) {
            throw new IOException("terminal read failed", t);
        }
    }

    void write(byte[] data) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_BYTE, data);
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            long off = 0;
            while (off < data.length) {
                long n = (long) WRITE.invokeExact(state, master, seg.asSlice(off), (long) data.length - off);
                if (n < 0) {
                    if ((int) ERRNO_HANDLE.get(state, 0L) == EINTR) continue;
                    throw new IOException("terminal write failed");
                }
                off += n;
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("terminal write failed", t);
        }
    }

    /** Waits for the child and returns its exit code (128 + signal if killed). Blocks. */
    int waitFor() throws IOException {
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

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            closeFd(master);
        }
    }

    private static void closeFd(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable ignored) {
            // nothing to do
        }
    }
}

package dev.bhatti.agent;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A pseudo-terminal and a process running on it (the JDK has neither). The child leads a new session
 * and opens the terminal's slave side as stdin/stdout/stderr, which makes it its controlling tty.
 */
final class Pty implements AutoCloseable {

    private static final MethodHandle POSIX_OPENPT = Native.fn("posix_openpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle GRANTPT = Native.fn("grantpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle UNLOCKPT = Native.fn("unlockpt", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle PTSNAME_R = Native.fn("ptsname_r", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle IOCTL_PTR = Native.fn("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
            Linker.Option.firstVariadicArg(2));
    private static final long TIOCSWINSZ = 0x5414;

    private final int master;
    private final long pid;
    private volatile boolean closed;

    private Pty(int master, long pid) {
        this.master = master;
        this.pid = pid;
    }

    long pid() { return pid; }

    /** Starts {@code program} with {@code argv} on a new terminal of the given size. */
    static Pty spawn(String program, List<String> argv, Map<String, String> env, String cwd, int rows, int cols) throws IOException {
        int master;
        try {
            master = (int) POSIX_OPENPT.invokeExact(Native.O_RDWR | Native.O_NOCTTY);
        } catch (Throwable t) {
            throw new IOException("posix_openpt failed", t);
        }
        if (master < 0) throw new IOException("no pseudo-terminal available");
        try (Arena arena = Arena.ofConfined()) {
            Native.check((int) GRANTPT.invokeExact(master), "grantpt");
            Native.check((int) UNLOCKPT.invokeExact(master), "unlockpt");
            MemorySegment name = arena.allocate(128);
            Native.check((int) PTSNAME_R.invokeExact(master, name, 128L), "ptsname_r");
            resize(master, rows, cols);
            long pid = Native.spawn(program, argv, env, cwd, (a, actions) -> {
                Native.check((int) Native.FA_OPEN.invokeExact(actions, 0, name, Native.O_RDWR, 0), "addopen");
                Native.check((int) Native.FA_DUP2.invokeExact(actions, 0, 1), "adddup2");
                Native.check((int) Native.FA_DUP2.invokeExact(actions, 0, 2), "adddup2");
            });
            return new Pty(master, pid);
        } catch (IOException e) {
            Native.close(master);
            throw e;
        } catch (Throwable t) {
            Native.close(master);
            throw new IOException("spawning on a terminal failed: " + t, t);
        }
    }

    void resize(int rows, int cols) throws IOException {
        if (!closed) resize(master, rows, cols);
    }

    private static void resize(int fd, int rows, int cols) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ws = arena.allocate(8);
            ws.set(JAVA_SHORT, 0, (short) rows);
            ws.set(JAVA_SHORT, 2, (short) cols);
            Native.check((int) IOCTL_PTR.invokeExact(fd, TIOCSWINSZ, ws), "TIOCSWINSZ");
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("resize failed", t);
        }
    }

    /** Terminal output; -1 once the terminal is gone (every process on it exited). Blocks. */
    int read(byte[] buf) throws IOException { return Native.read(master, buf); }

    void write(byte[] data) throws IOException { Native.write(master, data); }

    int waitFor() throws IOException { return Native.waitpid(pid); }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Native.close(master);
        }
    }
}

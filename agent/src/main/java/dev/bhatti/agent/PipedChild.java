package dev.bhatti.agent;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A command on three pipes, spawned directly with posix_spawn in its own session: no helper
 * processes in between, which matters where every exec costs tens of milliseconds (emulated CPUs).
 */
final class PipedChild {
    final long pid;
    final int stdin;
    final int stdout;
    final int stderr;
    /** A descriptor number is reused as soon as it is closed: close each exactly once. */
    private final AtomicBoolean stdinClosed = new AtomicBoolean();

    private PipedChild(long pid, int stdin, int stdout, int stderr) {
        this.pid = pid;
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
        if (stdin < 0) stdinClosed.set(true);
    }

    /**
     * Spawns the command; without {@code withStdin} its stdin is /dev/null. A command for another user
     * is spawned as that user directly where the agent can switch a thread's identity, else through setpriv.
     */
    static PipedChild spawn(Launch.Ready r, boolean withStdin) throws IOException {
        int[] in = withStdin ? Native.pipe() : null;
        int[] out = null;
        int[] err = null;
        try {
            out = Native.pipe();
            err = Native.pipe();
            int[] o = out, e = err;
            Native.StdioActions stdio = (arena, actions) -> {
                if (in != null) {
                    Native.check((int) Native.FA_DUP2.invokeExact(actions, in[0], 0), "adddup2");
                } else {
                    MemorySegment devNull = arena.allocateFrom("/dev/null");
                    Native.check((int) Native.FA_OPEN.invokeExact(actions, 0, devNull, Native.O_RDONLY, 0), "addopen");
                }
                Native.check((int) Native.FA_DUP2.invokeExact(actions, o[1], 1), "adddup2");
                Native.check((int) Native.FA_DUP2.invokeExact(actions, e[1], 2), "adddup2");
            };
            Launch.Direct d = r.direct();
            long pid;
            if (d.dropTo() == null) {
                pid = Native.spawn(d.program(), d.argv(), r.env(), r.cwd(), stdio);
            } else if (ThreadCredentials.supported()) {
                int[] groups = d.dropTo().groups(r.config().passwd().resolveSibling("group"));
                pid = UserSpawner.as(d.dropTo(), groups, () -> Native.spawn(d.program(), d.argv(), r.env(), r.cwd(), stdio));
            } else {
                pid = Native.spawn(r.program(), r.argv(), r.env(), r.cwd(), stdio);
            }
            if (in != null) Native.close(in[0]);
            Native.close(out[1]);
            Native.close(err[1]);
            return new PipedChild(pid, in == null ? -1 : in[1], out[0], err[0]);
        } catch (IOException ex) {
            for (int[] p : new int[][]{in, out, err}) {
                if (p != null) {
                    Native.close(p[0]);
                    Native.close(p[1]);
                }
            }
            throw ex;
        }
    }

    void closeStdin() {
        if (stdinClosed.compareAndSet(false, true)) Native.close(stdin);
    }
}

package dev.bhatti.agent;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Switches the user and groups of the calling thread only. Linux keeps credentials per thread; glibc's
 * setuid() family would switch every thread of the agent, so these are the raw system calls. A child
 * spawned from this thread (posix_spawn clones the calling thread) starts with the switched identity.
 * The saved uid stays 0 so the thread can switch back; the child's execve replaces the saved uid with
 * the user's, and the kernel drops every capability on that exec, so the command keeps no way back.
 */
final class ThreadCredentials {

    private static final Linker L = Linker.nativeLinker();
    private static final MethodHandle SYSCALL = L.downcallHandle(L.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));
    private static final VarHandle ERRNO = Linker.Option.captureStateLayout()
            .varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private record Numbers(long setgroups, long setresuid, long setresgid) {}

    private static final Numbers NR = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> new Numbers(116, 117, 119);
        case "aarch64" -> new Numbers(159, 147, 149);
        default -> null;
    };

    private ThreadCredentials() {}

    /** Whether this architecture's system call numbers are known; if not, commands drop privileges with setpriv. */
    static boolean supported() { return NR != null; }

    /** Makes the calling thread {@code uid}/{@code gid} with {@code groups}, keeping 0 as its saved uid. */
    static void become(int uid, int gid, int[] groups) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment list = arena.allocate(JAVA_INT, Math.max(1, groups.length));
            for (int i = 0; i < groups.length; i++) list.setAtIndex(JAVA_INT, i, groups[i]);
            call(arena, NR.setgroups, groups.length, list.address(), 0, "setgroups");
            call(arena, NR.setresgid, gid, gid, gid, "setresgid");
            call(arena, NR.setresuid, uid, uid, 0, "setresuid");
        }
    }

    /**
     * Makes the calling thread root again. A thread that cannot is a thread running agent code as a user:
     * the agent stops at once (agent-run starts it again) rather than go on with the wrong identity.
     */
    static void restoreRoot() {
        try (Arena arena = Arena.ofConfined()) {
            call(arena, NR.setresuid, 0, 0, 0, "setresuid");
            call(arena, NR.setresgid, 0, 0, 0, "setresgid");
            call(arena, NR.setgroups, 0, 0, 0, "setgroups");
        } catch (IOException | RuntimeException e) {
            Log.info("FATAL: could not switch a spawning thread back to root: " + e.getMessage());
            Runtime.getRuntime().halt(70);
        }
    }

    private static void call(Arena arena, long nr, long a, long b, long c, String what) throws IOException {
        MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
        long rc;
        try {
            rc = (long) SYSCALL.invokeExact(state, nr, a, b, c);
        } catch (Throwable t) {
            throw new IOException(what + " failed: " + t, t);
        }
        if (rc != 0) throw new IOException(what + " failed (errno " + (int) ERRNO.get(state, 0L) + ")");
    }
}

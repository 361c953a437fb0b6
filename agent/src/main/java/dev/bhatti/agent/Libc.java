package dev.bhatti.agent;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The few libc calls the JDK lacks. None of them blocks, so they are safe on virtual threads. */
final class Libc {

    static final int SIGTERM = 15;
    static final int SIGKILL = 9;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle KILL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("kill").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle GETEUID = LINKER.downcallHandle(
            LINKER.defaultLookup().find("geteuid").orElseThrow(), FunctionDescriptor.of(JAVA_INT));

    private static final MethodHandle SETRLIMIT = LINKER.downcallHandle(
            LINKER.defaultLookup().find("setrlimit").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final int RLIMIT_NPROC = 6;

    private Libc() {}

    /**
     * Caps the number of processes per non-root user for this process and everything it starts. Root
     * (the agent) is exempt from the cap, so a fork bomb by uid 1000 cannot starve the agent of pids.
     */
    static boolean limitUserProcesses(long max) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rlimit = arena.allocate(16);
            rlimit.set(JAVA_LONG, 0, max);
            rlimit.set(JAVA_LONG, 8, max);
            return (int) SETRLIMIT.invokeExact(RLIMIT_NPROC, rlimit) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /** Makes a child an ordinary OOM victim again (the agent itself is exempt and children inherit that). */
    static void resetOomScore(long pid) {
        try {
            Files.writeString(Path.of("/proc", Long.toString(pid), "oom_score_adj"), "0");
        } catch (IOException | RuntimeException e) {
            // not in a guest, or the process is already gone
        }
    }

    /** Sends {@code signal} to the group led by {@code pgid}; false if no such group is left. */
    static boolean killGroup(long pgid, int signal) {
        if (pgid <= 1) throw new IllegalArgumentException("refusing to signal process group " + pgid);
        try {
            return (int) KILL.invokeExact((int) -pgid, signal) == 0;
        } catch (Throwable t) {
            throw new IllegalStateException("kill(2) failed", t);
        }
    }

    static int geteuid() {
        try {
            return (int) GETEUID.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("geteuid(2) failed", t);
        }
    }
}

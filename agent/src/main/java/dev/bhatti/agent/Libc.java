package dev.bhatti.agent;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/** The few libc calls the JDK lacks. None of them blocks, so they are safe on virtual threads. */
final class Libc {

    static final int SIGTERM = 15;
    static final int SIGKILL = 9;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle KILL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("kill").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle GETEUID = LINKER.downcallHandle(
            LINKER.defaultLookup().find("geteuid").orElseThrow(), FunctionDescriptor.of(JAVA_INT));

    private Libc() {}

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

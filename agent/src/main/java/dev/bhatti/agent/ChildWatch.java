package dev.bhatti.agent;

import dev.bhatti.protocol.Message.Channel;

import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Forwards a piped command's stdout and stderr until it exits, and reaps it, on the calling platform
 * thread alone: one poll(2) over both pipes and a pidfd. Three threads per command (two pumps and a
 * waitpid) cost a hand-off each way on every exec, which a one-CPU emulated guest pays in milliseconds.
 */
final class ChildWatch {

    /** Where output goes; a failing sink (the host went away) stops forwarding, not the watch. */
    interface Sink {
        void accept(Channel channel, byte[] data) throws IOException;
    }

    /** How the command ended: its exit code (128 + signal when killed), or the timeout's. */
    record Result(int exitCode, boolean timedOut) {}

    static final int EXIT_TIMEOUT = 124;
    /** Output the command's exited children may still flush after it exits, before we stop waiting. */
    static final long DRAIN_GRACE_MILLIS = 2_000;
    /** How long a killed command may take to die before the reply goes out without its exit. */
    static final long KILL_WAIT_MILLIS = 10_000;

    private static final int OUT = 0, ERR = 1, EXIT = 2;
    private static final Channel[] CHANNELS = {Channel.STDOUT, Channel.STDERR};

    private ChildWatch() {}

    /**
     * Watches {@code child} (its pipes are closed when this returns). After {@code timeoutMillis} (0: none)
     * it calls {@code kill}, waits for the exit, and calls it again for stragglers that forked meanwhile.
     * Output still arriving from background children that hold the pipes is read for at most
     * {@link #DRAIN_GRACE_MILLIS} after the exit: such children must not hold the reply hostage.
     */
    static Result watch(PipedChild child, long timeoutMillis, Sink sink, Runnable kill) throws IOException {
        int pidfd;
        try {
            pidfd = Native.pidfdOpen(child.pid);
        } catch (IOException e) {
            Native.close(child.stdout);
            Native.close(child.stderr);
            kill.run();
            Native.waitpid(child.pid); // never leave a zombie behind
            throw e;
        }
        int[] fds = {child.stdout, child.stderr, pidfd};
        boolean sinkGone = false;
        boolean timedOut = false;
        int code = -1;
        boolean exited = false;
        long deadline = timeoutMillis > 0 ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis) : Long.MAX_VALUE;
        byte[] buf = new byte[32 * 1024];
        try {
            while (!exited || fds[OUT] >= 0 || fds[ERR] >= 0) {
                int[] open = Arrays.stream(fds).filter(fd -> fd >= 0).toArray();
                short[] ready = Native.poll(open, waitMillis(deadline));
                for (int i = 0; i < open.length; i++) {
                    if (ready[i] == 0) continue;
                    int slot = slotOf(fds, open[i]);
                    if (slot == EXIT) {
                        code = Native.waitpid(child.pid); // a zombie by now: does not block
                        exited = true;
                        closeSlot(fds, EXIT);
                        if (timedOut) kill.run(); // stragglers that forked while we killed
                        deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DRAIN_GRACE_MILLIS);
                        continue;
                    }
                    int n = Native.read(open[i], buf);
                    if (n <= 0) {
                        closeSlot(fds, slot);
                        continue;
                    }
                    if (sinkGone) continue;
                    try {
                        sink.accept(CHANNELS[slot], Arrays.copyOf(buf, n));
                    } catch (IOException e) {
                        sinkGone = true; // the host is gone: read on so the command never blocks on a full pipe
                    }
                }
                if (System.nanoTime() < deadline) continue;
                if (exited) break; // the drain grace is over
                if (timedOut) { // killed, yet not dead after KILL_WAIT_MILLIS (stuck in the kernel): reply without its exit
                    reapLater(child.pid);
                    break;
                }
                timedOut = true;
                kill.run();
                deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(KILL_WAIT_MILLIS);
            }
        } finally {
            for (int slot = 0; slot < fds.length; slot++) closeSlot(fds, slot);
        }
        return new Result(timedOut ? EXIT_TIMEOUT : code, timedOut);
    }

    /** A SIGKILLed command dies once the kernel lets it; reap it then, so it never stays a zombie. */
    private static void reapLater(long pid) {
        Thread.ofPlatform().daemon().name("reap-" + pid).start(() -> {
            try {
                Native.waitpid(pid);
            } catch (IOException e) {
                // already reaped
            }
        });
    }

    private static int waitMillis(long deadlineNanos) {
        if (deadlineNanos == Long.MAX_VALUE) return -1;
        long left = deadlineNanos - System.nanoTime();
        return left <= 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(left) + 1);
    }

    private static int slotOf(int[] fds, int fd) {
        for (int slot = 0; slot < fds.length; slot++) if (fds[slot] == fd) return slot;
        throw new IllegalStateException("descriptor " + fd + " is not watched");
    }

    private static void closeSlot(int[] fds, int slot) {
        Native.close(fds[slot]);
        fds[slot] = -1;
    }
}

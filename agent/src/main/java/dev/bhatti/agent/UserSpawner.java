package dev.bhatti.agent;

import java.io.IOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Spawns commands as their user without a setpriv process in between: a platform thread switches its
 * own credentials around the posix_spawn alone ({@link ThreadCredentials}) and back before it returns,
 * so no other code ever runs with a switched identity. A virtual thread cannot (its carrier runs other
 * virtual threads), so it hands the spawn to one of two dedicated platform threads.
 */
final class UserSpawner {

    interface Spawn {
        long start() throws IOException;
    }

    private static final ExecutorService THREADS = Executors.newFixedThreadPool(2,
            Thread.ofPlatform().daemon().name("spawn-as-user-", 0).factory());

    private UserSpawner() {}

    /** Runs {@code spawn} as {@code user} (its uid, gid and groups) and returns the child's pid. */
    static long as(GuestUser user, int[] groups, Spawn spawn) throws IOException {
        if (!Thread.currentThread().isVirtual()) return switched(user, groups, spawn); // no hand-off: an exec's own thread
        Future<Long> pid = THREADS.submit(() -> switched(user, groups, spawn));
        try {
            return pid.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) throw io;
            throw new IOException("spawning as " + user.name() + " failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while spawning", e);
        }
    }

    private static long switched(GuestUser user, int[] groups, Spawn spawn) throws IOException {
        try {
            // inside the try: a switch that fails half-way (groups changed, uid not) is undone too
            ThreadCredentials.become(user.uid(), user.gid(), groups);
            return spawn.start();
        } finally {
            ThreadCredentials.restoreRoot();
        }
    }
}

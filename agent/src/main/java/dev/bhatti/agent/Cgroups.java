package dev.bhatti.agent;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Puts every command the agent starts into its own cgroup (v2) under {@code bhatti-user}, whose memory
 * and process count are capped below the VM's, so a runaway command (a fork bomb, a memory hog) hits
 * its own limits while the agent keeps its memory and can still answer. Killing a command kills its
 * cgroup, which reaches every descendant atomically, even ones that fork while being killed.
 * Creating and removing a cgroup costs tens of milliseconds in an emulated guest, so execs lease
 * groups from a pool and give them back once empty: an exec only writes its pid.
 */
final class Cgroups {

    static final long PIDS_MAX = 1024;
    /** Memory kept back from user commands for the kernel and the agent: a quarter, at least 160 MiB. */
    static final long MIN_RESERVED_BYTES = 160L * 1024 * 1024;

    /** Empty groups kept for reuse; more than this many idle ones are removed. */
    static final int POOL_MAX = 8;

    private final Path user;
    private final AtomicLong counter = new AtomicLong();
    private final ConcurrentLinkedDeque<Path> idle = new ConcurrentLinkedDeque<>();
    /** Idle or leased groups: never swept. */
    private final Set<Path> pooled = ConcurrentHashMap.newKeySet();

    private Cgroups(Path user) { this.user = user; }

    /** Sets up the hierarchy, or returns null where cgroup v2 is not available (tests on a host). */
    static Cgroups setUp(Path root) {
        try {
            if (!Files.exists(root.resolve("cgroup.controllers"))) {
                Process p = new ProcessBuilder("mount", "-t", "cgroup2", "cgroup2", root.toString())
                        .redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor() != 0 || !Files.exists(root.resolve("cgroup.controllers"))) return null;
            }
            enable(root, "+memory +pids");
            Path user = root.resolve("bhatti-user");
            Files.createDirectories(user);
            Files.writeString(user.resolve("pids.max"), Long.toString(PIDS_MAX));
            long total = memTotal();
            long reserved = Math.max(MIN_RESERVED_BYTES, total / 4);
            if (total > 2 * reserved) {
                Files.writeString(user.resolve("memory.max"), Long.toString(total - reserved));
                // Throttle and reclaim before the hard limit, so the limit is rarely hit at all.
                Files.writeString(user.resolve("memory.high"), Long.toString(total - reserved - reserved / 4));
            }
            enable(user, "+memory +pids");
            return new Cgroups(user);
        } catch (IOException | RuntimeException e) {
            Log.info("cgroups unavailable, commands run without limits: " + e.getMessage());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static void enable(Path group, String controllers) {
        try {
            Files.writeString(group.resolve("cgroup.subtree_control"), controllers);
        } catch (IOException e) {
            Log.info("could not enable " + controllers + " in " + group + ": " + e.getMessage());
        }
    }

    private static long memTotal() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
        return 0;
    }

    /** A new cgroup for one command, holding {@code pid} (moved right after it was spawned). */
    Path adopt(String kind, long pid) {
        Path group = user.resolve(kind + "-" + counter.incrementAndGet());
        try {
            Files.createDirectory(group);
            Files.writeString(group.resolve("cgroup.procs"), Long.toString(pid));
            return group;
        } catch (IOException e) {
            Log.info("could not place pid " + pid + " in " + group + ": " + e.getMessage());
            return null;
        }
    }

    /** Creates {@code n} idle groups ahead of the first execs (call off the critical path). */
    void prepare(int n) {
        for (int i = 0; i < n && idle.size() < POOL_MAX; i++) {
            Path g = newPooledGroup();
            if (g == null) return;
            idle.push(g);
        }
    }

    /** A new empty group of the pool, or null (logged) if it cannot be made. */
    private Path newPooledGroup() {
        Path g = user.resolve("pool-" + counter.incrementAndGet());
        try {
            Files.createDirectory(g);
        } catch (IOException e) {
            Log.info("could not create " + g + ": " + e.getMessage());
            return null;
        }
        pooled.add(g);
        return g;
    }

    /** A pooled group holding {@code pid}; give it back with {@link #giveBack(Path, boolean)} when the command is done. */
    Path lease(long pid) {
        Path g = idle.poll();
        if (g == null) g = newPooledGroup();
        if (g == null) return null;
        try {
            Files.writeString(g.resolve("cgroup.procs"), Long.toString(pid));
        } catch (IOException e) {
            // the command is already gone (a fast one), or the pid is not ours: the group is still good
            giveBack(g, true);
            return null;
        }
        return g;
    }

    /**
     * Returns a leased group once its command is done. A group that still holds processes (a background
     * child) leaves the pool and is removed by {@link #sweep} when they end.
     */
    void giveBack(Path g, boolean reusable) {
        if (g == null || !pooled.contains(g)) return;
        boolean empty;
        try {
            empty = reusable && Files.readString(g.resolve("cgroup.procs")).isBlank();
        } catch (IOException e) {
            empty = false;
        }
        if (empty && idle.size() < POOL_MAX) {
            idle.push(g);
        } else {
            pooled.remove(g); // now the sweep's
        }
    }

    /** Kills every process in the group at once. */
    static void kill(Path group) {
        if (group == null) return;
        try {
            Files.writeString(group.resolve("cgroup.kill"), "1");
        } catch (IOException e) {
            Log.info("cgroup.kill failed for " + group + ": " + e.getMessage());
        }
    }

    /** Removes groups whose processes are all gone (background children keep theirs alive). */
    void sweep() {
        try (DirectoryStream<Path> groups = Files.newDirectoryStream(user, p -> Files.isDirectory(p))) {
            for (Path g : groups) {
                if (pooled.contains(g)) continue;
                try {
                    if (Files.readString(g.resolve("cgroup.procs")).isBlank()) Files.delete(g);
                } catch (IOException e) {
                    // busy or already gone
                }
            }
        } catch (IOException e) {
            // hierarchy gone
        }
    }
}

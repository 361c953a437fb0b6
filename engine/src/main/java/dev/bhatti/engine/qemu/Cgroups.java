package dev.bhatti.engine.qemu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.nio.file.StandardOpenOption;

/**
 * The host's cgroup hierarchies for the controllers a VM is limited by (cpu, memory, pids), v1 or v2
 * per controller: a controller mounted as its own v1 hierarchy is used there, otherwise the v2
 * hierarchy when it offers it (so a hybrid host with v1 controllers and an empty unified tree works as
 * well as a pure v2 one). Each VM's cgroup is {@code <own cgroup>/<parent>/<vm id>} in every hierarchy
 * used, below the daemon's own cgroup, so whatever limits and accounting the operator put on the daemon
 * cover its VMs too.
 */
final class Cgroups {
    private static final Logger log = LoggerFactory.getLogger(Cgroups.class);
    static final List<String> CONTROLLERS = List.of("cpu", "memory", "pids");
    private static final long REMOVE_WAIT_MS = 3_000;

    /** One hierarchy in use: where VM cgroups go in it, its version and the controllers used from it. */
    record Hierarchy(Path mount, String ownPath, Path parentDir, boolean v2, List<String> controllers) {}

    private final List<Hierarchy> hierarchies;

    Cgroups(List<Hierarchy> hierarchies) {
        this.hierarchies = List.copyOf(hierarchies);
    }

    List<Hierarchy> hierarchies() { return hierarchies; }

    /** The layout of this host, for the daemon's own cgroups; empty when no controller is available. */
    static Cgroups detect(String parent) throws IOException {
        return new Cgroups(layout(Files.readString(Path.of("/proc/mounts")), Files.readString(Path.of("/proc/self/cgroup")),
                dir -> {
                    try {
                        return Files.readString(dir.resolve("cgroup.controllers"));
                    } catch (IOException e) {
                        return "";
                    }
                }, parent));
    }

    /**
     * Which hierarchy serves each controller, from the text of /proc/mounts and /proc/self/cgroup;
     * {@code controllersOf} reads a v2 directory's cgroup.controllers.
     */
    static List<Hierarchy> layout(String mounts, String selfCgroup, Function<Path, String> controllersOf, String parent) {
        Map<String, String> ownV1 = new LinkedHashMap<>(); // controller -> own path
        String ownV2 = null;
        for (String line : selfCgroup.split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length < 3) continue;
            if (f[0].equals("0") && f[1].isEmpty()) ownV2 = f[2].strip();
            else for (String c : f[1].split(",")) ownV1.put(c, f[2].strip());
        }
        Map<Path, List<String>> v1 = new LinkedHashMap<>();
        Path v2Mount = null;
        for (String line : mounts.split("\n")) {
            String[] f = line.split(" ");
            if (f.length < 4) continue;
            Path mountPoint = Path.of(f[1].replace("\\040", " "));
            if (f[2].equals("cgroup2")) {
                if (v2Mount == null) v2Mount = mountPoint;
            } else if (f[2].equals("cgroup")) {
                Set<String> options = Set.of(f[3].split(","));
                for (String c : CONTROLLERS) {
                    if (options.contains(c) && v1.values().stream().noneMatch(l -> l.contains(c))) {
                        v1.computeIfAbsent(mountPoint, k -> new ArrayList<>()).add(c);
                    }
                }
            }
        }
        var result = new ArrayList<Hierarchy>();
        for (var e : v1.entrySet()) {
            String own = ownV1.getOrDefault(e.getValue().getFirst(), "/");
            result.add(new Hierarchy(e.getKey(), own, under(e.getKey(), own).resolve(parent), false, List.copyOf(e.getValue())));
        }
        if (v2Mount != null && ownV2 != null) {
            Set<String> offered = Set.of(controllersOf.apply(under(v2Mount, ownV2)).strip().split("\\s+"));
            var fromV2 = CONTROLLERS.stream().filter(c -> offered.contains(c) && v1.values().stream().noneMatch(l -> l.contains(c))).toList();
            if (!fromV2.isEmpty()) result.add(new Hierarchy(v2Mount, ownV2, under(v2Mount, ownV2).resolve(parent), true, fromV2));
        }
        return result;
    }

    private static Path under(Path mount, String cgroupPath) {
        String rel = cgroupPath.replaceFirst("^/+", "");
        return rel.isEmpty() ? mount : mount.resolve(rel);
    }

    /** The files (in write order) that set {@code limits} for one controller. */
    static Map<String, String> limitFiles(boolean v2, String controller, VmLimits limits) {
        var files = new LinkedHashMap<String, String>();
        switch (controller) {
            case "cpu" -> {
                if (v2) {
                    files.put("cpu.max", limits.cpuQuotaUs() + " " + limits.cpuPeriodUs());
                } else {
                    files.put("cpu.cfs_period_us", Long.toString(limits.cpuPeriodUs()));
                    files.put("cpu.cfs_quota_us", Long.toString(limits.cpuQuotaUs()));
                }
            }
            case "memory" -> files.put(v2 ? "memory.max" : "memory.limit_in_bytes", Long.toString(limits.memoryBytes()));
            case "pids" -> files.put("pids.max", Long.toString(limits.pidsMax()));
            default -> throw new IllegalArgumentException("unknown controller " + controller);
        }
        return files;
    }

    /** The VM's cgroup directory in every hierarchy in use. */
    List<Path> dirsOf(String vmId) {
        return hierarchies.stream().map(h -> h.parentDir().resolve(vmId)).toList();
    }

    /**
     * Creates the VM's cgroups (or takes over the ones a previous run left) with {@code limits}; returns
     * their directories. Throws, having removed what it made, when a hierarchy refuses.
     */
    List<Path> create(String vmId, VmLimits limits) throws IOException {
        var made = new ArrayList<Path>();
        try {
            for (Hierarchy h : hierarchies) {
                if (h.v2()) enableControllers(h);
                else Files.createDirectories(h.parentDir());
                Path dir = h.parentDir().resolve(vmId);
                if (!Files.isDirectory(dir)) Files.createDirectory(dir);
                made.add(dir);
                for (String c : h.controllers()) {
                    for (var f : limitFiles(h.v2(), c, limits).entrySet()) write(dir.resolve(f.getKey()), f.getValue());
                }
                if (h.v2() && h.controllers().contains("memory") && Files.exists(dir.resolve("memory.swap.max"))) {
                    write(dir.resolve("memory.swap.max"), "0");
                }
            }
            return made;
        } catch (IOException e) {
            remove(made);
            throw new IOException("could not set up the VM's cgroup: " + e.getMessage(), e);
        }
    }

    /** In v2 a controller reaches a cgroup only when every ancestor enables it for its children. */
    private static void enableControllers(Hierarchy h) throws IOException {
        Path dir = under(h.mount(), h.ownPath());
        if (!h.ownPath().equals("/")) moveProcessesToLeaf(dir);
        String enable = String.join(" ", h.controllers().stream().map(c -> "+" + c).toList());
        for (Path name : dir.relativize(h.parentDir())) {
            enableIn(dir, enable);
            dir = dir.resolve(name);
            if (!Files.isDirectory(dir)) Files.createDirectory(dir);
        }
        enableIn(dir, enable);
    }

    /** The leaf the daemon's own processes move to, beside its VMs' cgroups. */
    static final String DAEMON_LEAF = "daemon";

    /**
     * cgroup v2 lets a cgroup give controllers to its children only while no process lives in it, and a
     * service manager starts the daemon right in its unit's cgroup (systemd's bhatti.service, delegated).
     * So the processes there (the daemon; after a restart, nothing else: the VMs live below) move to a
     * leaf of their own first, and the VMs' cgroups stay siblings of it, where a restart finds them.
     */
    static void moveProcessesToLeaf(Path own) throws IOException {
        Path procs = own.resolve("cgroup.procs");
        if (!Files.exists(procs) || Files.readString(procs).isBlank()) return;
        Path leaf = own.resolve(DAEMON_LEAF);
        if (!Files.isDirectory(leaf)) Files.createDirectory(leaf);
        for (String pid : Files.readString(procs).split("\\s+")) {
            if (pid.isEmpty()) continue;
            try {
                write(leaf.resolve("cgroup.procs"), pid);
            } catch (IOException e) {
                // a process that ended meanwhile; one that cannot move shows up when the controllers are enabled
                log.debug("could not move process {} to {}: {}", pid, leaf, e.getMessage());
            }
        }
    }

    private static void enableIn(Path dir, String enable) throws IOException {
        String have = Files.readString(dir.resolve("cgroup.subtree_control"));
        boolean all = true;
        for (String c : enable.split(" ")) all &= List.of(have.strip().split("\\s+")).contains(c.substring(1));
        if (all) return;
        try {
            write(dir.resolve("cgroup.subtree_control"), enable);
        } catch (IOException e) {
            throw new IOException("cannot enable " + enable + " in " + dir + " (" + e.getMessage()
                    + "); run the daemon in a cgroup of its own with delegated controllers, or set engine.jail: false", e);
        }
    }

    /** Removes cgroup directories, waiting a moment for a process that is still exiting to leave them. */
    static void remove(List<Path> dirs) {
        for (Path dir : dirs) {
            long deadline = System.currentTimeMillis() + REMOVE_WAIT_MS;
            while (true) {
                try {
                    Files.delete(dir); // rmdir: cgroupfs directories go with their control files
                    break;
                } catch (NoSuchFileException e) {
                    break;
                } catch (FileSystemException e) {
                    if (System.currentTimeMillis() > deadline) {
                        log.warn("could not remove cgroup {}: {}", dir, e.getMessage());
                        break;
                    }
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                } catch (IOException e) {
                    log.warn("could not remove cgroup {}: {}", dir, e.getMessage());
                    break;
                }
            }
        }
    }

    private static void write(Path file, String value) throws IOException {
        Files.writeString(file, value, StandardCharsets.US_ASCII, StandardOpenOption.WRITE);
    }
}

package dev.bhatti.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/** Checks, from /proc and the cgroup filesystems, that a sandbox's QEMU runs in its jail. */
final class QemuJail {
    private QemuJail() {}

    /** The sandbox's QEMU process (the one whose command line names its directory). */
    static long qemuPid(Path sandboxDir) throws IOException {
        for (long pid : BhattiProcess.processesMentioning(sandboxDir)) {
            String cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"), StandardCharsets.ISO_8859_1);
            if (cmdline.startsWith("qemu-system")) return pid;
        }
        throw new AssertionError("no QEMU process for " + sandboxDir);
    }

    /**
     * Its own uid (not root), seccomp, no_new_privs, a chroot into its directory, an environment of PATH
     * alone, and its own cgroup in every hierarchy with a memory limit above the guest's memory, a CPU
     * quota for its cpus and a pids bound.
     */
    static void assertJailed(Path sandboxDir, int memoryMb, int cpus) throws IOException {
        long pid = qemuPid(sandboxDir);
        Path proc = Path.of("/proc", Long.toString(pid));
        String status = Files.readString(proc.resolve("status"));
        String uid = field(status, "Uid");
        assertThat(uid.split("\\s+")).as("real, effective, saved and fs uid: " + uid).doesNotContain("0").hasSize(4).containsOnly(uid.split("\\s+")[0]);
        assertThat(field(status, "Gid").split("\\s+")).doesNotContain("0");
        assertThat(field(status, "Seccomp")).isEqualTo("2");
        assertThat(field(status, "NoNewPrivs")).isEqualTo("1");
        assertThat(field(status, "CapEff")).isEqualTo("0000000000000000");
        assertThat(Files.readSymbolicLink(proc.resolve("root"))).as("chrooted into its own directory").isEqualTo(sandboxDir);
        String environ = Files.readString(proc.resolve("environ"), StandardCharsets.ISO_8859_1);
        assertThat(environ.split("\0")).as("a cleared environment").allMatch(v -> v.startsWith("PATH=") || v.startsWith("PWD="));

        String id = sandboxDir.getFileName().toString();
        var dirs = cgroupDirs(sandboxDir);
        assertThat(dirs).as("its own cgroups, recorded for adoption").isNotEmpty();
        String cgroups = Files.readString(proc.resolve("cgroup"));
        boolean memory = false, cpu = false, pids = false;
        for (Path dir : dirs) {
            assertThat(dir.getFileName().toString()).isEqualTo(id);
            assertThat(Files.readAllLines(dir.resolve("cgroup.procs"))).as("QEMU is in " + dir).contains(Long.toString(pid));
            String rel = dir.toString();
            assertThat(cgroups.lines().anyMatch(l -> rel.endsWith(l.substring(l.lastIndexOf(':') + 1)) && l.endsWith("/" + id)))
                    .as("/proc/pid/cgroup names " + dir + ":\n" + cgroups).isTrue();
            for (String f : List.of("memory.limit_in_bytes", "memory.max")) {
                if (Files.exists(dir.resolve(f))) {
                    long limit = Long.parseLong(Files.readString(dir.resolve(f)).strip());
                    assertThat(limit).as(f).isGreaterThan((long) memoryMb << 20).isLessThan(((long) memoryMb << 20) + (1L << 30));
                    memory = true;
                }
            }
            if (Files.exists(dir.resolve("cpu.cfs_quota_us"))) {
                assertThat(Long.parseLong(Files.readString(dir.resolve("cpu.cfs_quota_us")).strip()))
                        .isGreaterThanOrEqualTo(cpus * Long.parseLong(Files.readString(dir.resolve("cpu.cfs_period_us")).strip()));
                cpu = true;
            }
            if (Files.exists(dir.resolve("cpu.max"))) {
                assertThat(Files.readString(dir.resolve("cpu.max"))).doesNotStartWith("max");
                cpu = true;
            }
            if (Files.exists(dir.resolve("pids.max"))) {
                assertThat(Files.readString(dir.resolve("pids.max")).strip()).matches("\\d+");
                pids = true;
            }
        }
        assertThat(List.of(memory, cpu, pids)).as("memory, cpu and pids limits").containsOnly(true);
    }

    /** QEMU's network device is fd 5, a TAP attached before QEMU ran (by the launcher), and no TAP name is on its command line. */
    static void assertTapPassedIn(Path sandboxDir) throws IOException {
        long pid = qemuPid(sandboxDir);
        Path proc = Path.of("/proc", Long.toString(pid));
        assertThat(Files.readSymbolicLink(proc.resolve("fd/5"))).hasToString("/dev/net/tun");
        assertThat(Files.readString(proc.resolve("fdinfo/5"))).containsPattern("iff:\\s+bt");
        String cmdline = Files.readString(proc.resolve("cmdline"), StandardCharsets.ISO_8859_1).replace('\0', ' ');
        assertThat(cmdline).contains("tap,id=net0,fd=5").doesNotContain("ifname=");
    }

    /** The cgroup directories the daemon recorded for the sandbox. */
    static List<Path> cgroupDirs(Path sandboxDir) throws IOException {
        var p = new Properties();
        try (var r = Files.newBufferedReader(sandboxDir.resolve("jail.properties"))) {
            p.load(r);
        }
        var dirs = new ArrayList<Path>();
        for (int i = 0; p.getProperty("cgroup." + i) != null; i++) dirs.add(Path.of(p.getProperty("cgroup." + i)));
        return dirs;
    }

    /** None of the sandbox's cgroups is left (its QEMU has ended). */
    static void assertNoCgroups(List<Path> dirs) {
        assertThat(dirs).isNotEmpty().allMatch(d -> !Files.exists(d), "removed");
    }

    private static String field(String status, String name) {
        return status.lines().filter(l -> l.startsWith(name + ":")).findFirst()
                .map(l -> l.substring(name.length() + 1).strip()).orElseThrow(() -> new AssertionError("no " + name + " in status"));
    }
}

package dev.bhatti.engine.qemu;

import dev.bhatti.engine.VmSpec;
import dev.bhatti.engine.VolumeDisk;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JailTest {

    @TempDir Path dir;

    /** This kind of machine: cpu, memory and pids as v1 hierarchies, an empty unified tree beside them. */
    static final String HYBRID_MOUNTS = """
            tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
            cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,relatime,cpu,cpuacct 0 0
            cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
            cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0
            cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0
            cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
            """;
    static final String HYBRID_SELF = "9:name=systemd:/\n8:pids:/\n4:memory:/jobs/j1\n1:cpu,cpuacct:/\n0::/\n";

    @Test
    void underAServiceManagersCgroupTheDaemonMovesToALeafSoItsVmsCanHaveControllers() throws Exception {
        // systemd starts the daemon in bhatti.service; v2 gives children controllers only from a cgroup without processes
        Path own = Files.createDirectories(dir.resolve("system.slice/bhatti.service"));
        Files.writeString(own.resolve("cgroup.procs"), "4242\n");
        Files.createDirectories(own.resolve(Cgroups.DAEMON_LEAF));
        Files.writeString(own.resolve(Cgroups.DAEMON_LEAF + "/cgroup.procs"), ""); // the kernel makes it with the directory
        Cgroups.moveProcessesToLeaf(own);
        assertThat(own.resolve(Cgroups.DAEMON_LEAF + "/cgroup.procs")).hasContent("4242");
        // a restart that finds the leaf already there uses it; an empty cgroup is left alone
        Files.writeString(own.resolve("cgroup.procs"), "");
        Files.delete(own.resolve(Cgroups.DAEMON_LEAF + "/cgroup.procs"));
        Cgroups.moveProcessesToLeaf(own);
        assertThat(own.resolve(Cgroups.DAEMON_LEAF + "/cgroup.procs")).doesNotExist();
    }

    @Test
    void v1ControllersAreUsedWhereMountedBelowTheDaemonsOwnCgroup() {
        var layout = Cgroups.layout(HYBRID_MOUNTS, HYBRID_SELF, p -> "hugetlb\n", "bhatti");
        assertThat(layout).extracting(Cgroups.Hierarchy::parentDir).containsExactly(
                Path.of("/sys/fs/cgroup/cpu,cpuacct/bhatti"), Path.of("/sys/fs/cgroup/memory/jobs/j1/bhatti"), Path.of("/sys/fs/cgroup/pids/bhatti"));
        assertThat(layout).allMatch(h -> !h.v2());
        assertThat(layout).flatExtracting(Cgroups.Hierarchy::controllers).containsExactly("cpu", "memory", "pids");
        assertThat(new Cgroups(layout).dirsOf("abc")).contains(Path.of("/sys/fs/cgroup/memory/jobs/j1/bhatti/abc"));
    }

    @Test
    void aPureV2HostUsesOneDirectoryForEveryController() {
        var layout = Cgroups.layout("cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n", "0::/system.slice/bhatti.service\n",
                p -> p.equals(Path.of("/sys/fs/cgroup/system.slice/bhatti.service")) ? "cpuset cpu io memory hugetlb pids rdma\n" : "",
                "vms");
        assertThat(layout).singleElement().satisfies(h -> {
            assertThat(h.v2()).isTrue();
            assertThat(h.controllers()).containsExactly("cpu", "memory", "pids");
            assertThat(h.parentDir()).isEqualTo(Path.of("/sys/fs/cgroup/system.slice/bhatti.service/vms"));
        });
    }

    @Test
    void aControllerMissingFromV1IsTakenFromV2WhenItOffersIt() {
        String mounts = "cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n";
        var layout = Cgroups.layout(mounts, "4:memory:/\n0::/\n", p -> "cpu pids", "bhatti");
        assertThat(layout).hasSize(2);
        assertThat(layout.get(0).controllers()).containsExactly("memory");
        assertThat(layout.get(1).v2()).isTrue();
        assertThat(layout.get(1).controllers()).containsExactly("cpu", "pids");
    }

    @Test
    void limitsFollowTheSpec() {
        var limits = VmLimits.of(new VmSpec("abc", "h", 2, 512, "minimal"), Accelerator.KVM);
        assertThat(limits.memoryBytes()).isEqualTo((512L << 20) + VmLimits.OVERHEAD_BYTES);
        assertThat(limits.cpuQuotaUs()).isEqualTo(2 * limits.cpuPeriodUs() + limits.cpuPeriodUs() / 5);
        assertThat(Cgroups.limitFiles(true, "cpu", limits)).containsExactly(java.util.Map.entry("cpu.max", "220000 100000"));
        assertThat(Cgroups.limitFiles(false, "cpu", limits)).containsExactly(
                java.util.Map.entry("cpu.cfs_period_us", "100000"), java.util.Map.entry("cpu.cfs_quota_us", "220000"));
        assertThat(Cgroups.limitFiles(false, "memory", limits)).containsEntry("memory.limit_in_bytes", Long.toString(limits.memoryBytes()));
        assertThat(Cgroups.limitFiles(true, "memory", limits)).containsEntry("memory.max", Long.toString(limits.memoryBytes()));
        assertThat(Cgroups.limitFiles(true, "pids", limits)).containsEntry("pids.max", Long.toString(limits.pidsMax()));
    }

    @Test
    void creatingWritesTheLimitsAndRemovingDeletesTheDirectory() throws IOException {
        Path mount = Files.createDirectories(dir.resolve("memory"));
        Path vm = Files.createDirectories(mount.resolve("bhatti/abc"));
        Files.createFile(vm.resolve("memory.limit_in_bytes"));
        var cgroups = new Cgroups(List.of(new Cgroups.Hierarchy(mount, "/", mount.resolve("bhatti"), false, List.of("memory"))));
        var limits = VmLimits.of(new VmSpec("abc", "h", 1, 256, "minimal"), Accelerator.TCG);
        assertThat(cgroups.create("abc", limits)).containsExactly(vm);
        assertThat(Files.readString(vm.resolve("memory.limit_in_bytes"))).isEqualTo(Long.toString(limits.memoryBytes()));
        Files.delete(vm.resolve("memory.limit_in_bytes")); // cgroupfs removes its control files with the directory
        Cgroups.remove(List.of(vm, mount.resolve("bhatti/gone")));
        assertThat(vm).doesNotExist();
    }

    @Test
    void uidsAreTheLowestFreeInTheRange() {
        assertThat(VmIdentity.allocate(Set.of(), 100_000, 10)).isEqualTo(100_000);
        assertThat(VmIdentity.allocate(Set.of(100_000, 100_001, 100_003), 100_000, 10)).isEqualTo(100_002);
        assertThatThrownBy(() -> VmIdentity.allocate(Set.of(100_000, 100_001), 100_000, 2)).hasMessageContaining("in use");
        assertThatThrownBy(() -> new JailConfig(true, 0, 10, "bhatti")).hasMessageContaining("1000");
        assertThatThrownBy(() -> new JailConfig(true, 100_000, 10, "../x")).hasMessageContaining("cgroup parent");
    }

    @Test
    void eachVmKeepsItsOwnUidAndItIsFoundAgain() throws IOException {
        Path sandboxes = dir.resolve("sandboxes");
        var jailer = new Jailer(new JailConfig(true, 200_000, 100, "bhatti"), sandboxes, new Cgroups(List.of()));
        var a = new VmPaths(Files.createDirectories(sandboxes.resolve("a")));
        var b = new VmPaths(Files.createDirectories(sandboxes.resolve("b")));
        int uidA = jailer.prepare(a, new VmSpec("a", "a", 1, 256, "minimal"), Accelerator.TCG).uid();
        int uidB = jailer.prepare(b, new VmSpec("b", "b", 1, 256, "minimal"), Accelerator.TCG).uid();
        assertThat(uidA).isEqualTo(200_000);
        assertThat(uidB).isEqualTo(200_001);
        assertThat(jailer.prepare(a, new VmSpec("a", "a", 1, 256, "minimal"), Accelerator.TCG).uid()).as("kept across starts").isEqualTo(uidA);
        assertThat(jailer.recorded(b).uid()).isEqualTo(uidB);
        assertThat(Files.getAttribute(a.dir(), "unix:gid")).isEqualTo(uidA);
        assertThat(Files.getAttribute(a.dir(), "unix:mode")).isEqualTo(040710);
    }

    @Test
    void qemuDropsToTheVmsIdsInsideItsDirectoryUnderSeccomp() {
        var jailer = new Jailer(JailConfig.defaults(), dir, new Cgroups(List.of()));
        var paths = new VmPaths(dir.resolve("vm1"));
        var args = String.join(" ", jailer.qemuArgs(new VmIdentity(100_007, List.of()), paths));
        assertThat(args).contains("-runas 100007:100007", "-chroot " + paths.dir(), "-sandbox on,obsolete=deny,",
                "spawn=deny", "resourcecontrol=deny");
        assertThat(jailer.inside(paths, paths.migrateSocket())).isEqualTo("/migrate.sock");
        var off = new Jailer(new JailConfig(false, 100_000, 10, "bhatti"), dir, new Cgroups(List.of()));
        assertThat(off.qemuArgs(new VmIdentity(0, List.of()), paths)).containsExactly("-sandbox", Jailer.SECCOMP_UNJAILED);
        assertThat(off.inside(paths, paths.migrateSocket())).isEqualTo(paths.migrateSocket().toString());
    }

    @Test
    void theLauncherOpensAToolsDiskReadOnlyAsFd6() throws Exception {
        var jailer = new Jailer(JailConfig.defaults(), dir, new Cgroups(List.of()));
        var paths = new VmPaths(Files.createDirectories(dir.resolve("vm")));
        Files.writeString(paths.disk(), "disk\n");
        Path tools = Files.writeString(dir.resolve("tools.ext4"), "tools\n");
        var spec = new VmSpec("vm", "vm", 1, 256, "minimal").withImage(dir.resolve("rootfs.ext4"), tools);
        var argv = new ArrayList<>(jailer.launcher(new VmIdentity(100_000, List.of()), paths, spec));
        argv.addAll(List.of("sh", "-c", "cat <&6; cat <&4; echo x >&6 2>/dev/null || echo read-only"));
        var p = new ProcessBuilder(argv).start();
        var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(p.waitFor()).isZero();
        assertThat(out).isEqualTo("tools\ndisk\nread-only\n");
    }

    @Test
    void theLauncherOpensVolumesAsQemuCommandNumbersThem() throws Exception {
        var jailer = new Jailer(JailConfig.defaults(), dir, new Cgroups(List.of()));
        var paths = new VmPaths(Files.createDirectories(dir.resolve("vm")));
        Files.writeString(paths.disk(), "disk\n");
        Path a = Files.writeString(dir.resolve("a vol.raw"), "a\n");
        Path b = Files.writeString(dir.resolve("b.raw"), "b\n");
        Path c = Files.writeString(dir.resolve("c.raw"), "c\n");
        var volumes = List.of(new VolumeDisk(a, "/a", false), new VolumeDisk(b, "/b", true), new VolumeDisk(c, "/c", false));
        var fds = QemuCommand.volumeFds(volumes);
        assertThat(fds.stream().map(java.util.Arrays::toString)).containsExactly("[7, 8]", "[9]", "[10, 11]");
        var spec = new VmSpec("vm", "vm", 1, 256, "minimal").withVolumes(volumes);
        var argv = new ArrayList<>(jailer.launcher(new VmIdentity(100_000, List.of()), paths, spec));
        argv.addAll(List.of("bash", "-c", "cat <&8; cat <&9; cat <&11; readlink /proc/self/fd/7 /proc/self/fd/10;"
                + " echo x >&9 2>/dev/null || echo b-read-only; echo y >&7 && echo a-writable"));
        var p = new ProcessBuilder(argv).start();
        var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(p.waitFor()).isZero();
        assertThat(out).isEqualTo("a\nb\nc\n" + a + "\n" + c + "\nb-read-only\na-writable\n");

        // what QEMU's environment holds: the launcher's (bash's) own variables are not passed on
        var envArgv = new ArrayList<>(jailer.launcher(new VmIdentity(100_000, List.of()), paths, spec));
        envArgv.add("env");
        var pb = new ProcessBuilder(envArgv);
        pb.environment().clear();
        pb.environment().putAll(Jailer.ENVIRONMENT);
        var env = pb.start();
        var vars = new String(env.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip().split("\n");
        assertThat(env.waitFor()).isZero();
        assertThat(vars).allMatch(v -> v.startsWith("PATH=") || v.startsWith("PWD="));
        var qemu = String.join(" ", new QemuCommand("qemu", Accelerator.TCG, 1).argv(spec, paths, new ImageCatalog(dir), true));
        assertThat(qemu).contains("id=vol0,file=/dev/fdset/3,file.locking=off,format=raw", "fd=7,set=3,opaque=vol0-rw", "fd=8,set=3,opaque=vol0-ro",
                "id=vol1,file=/dev/fdset/4,file.locking=off,format=raw,if=none,discard=unmap,read-only=on", "fd=9,set=4,opaque=vol1-ro",
                "fd=10,set=5,opaque=vol2-rw", "serial=bhatti-vol2");
    }

    @Test
    void theLauncherEntersEveryCgroupThenExecsInPlace() throws Exception {
        var cg1 = Files.createDirectories(dir.resolve("cg1"));
        var cg2 = Files.createDirectories(dir.resolve("cg 2"));
        var jailer = new Jailer(JailConfig.defaults(), dir, new Cgroups(List.of()));
        var paths = new VmPaths(Files.createDirectories(dir.resolve("vm")));
        Files.writeString(paths.disk(), "disk\n");
        var argv = new ArrayList<>(jailer.launcher(new VmIdentity(100_000, List.of(cg1, cg2)), paths, new VmSpec("vm", "vm", 1, 256, "minimal")));
        argv.addAll(List.of("sh", "-c", "echo $$; cat <&4; readlink /proc/self/fd/3"));
        var p = new ProcessBuilder(argv).start();
        var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip().split("\n");
        assertThat(p.waitFor()).isZero();
        String pid = out[0];
        assertThat(out[1]).as("the disk, read-only on fd 4").isEqualTo("disk");
        assertThat(out[2]).as("and read-write on fd 3").isEqualTo(paths.disk().toString());
        assertThat(pid).as("the exec keeps the pid").isEqualTo(Long.toString(p.pid()));
        assertThat(Files.readString(cg1.resolve("cgroup.procs")).strip()).isEqualTo(pid);
        assertThat(Files.readString(cg2.resolve("cgroup.procs")).strip()).isEqualTo(pid);
        var off = new Jailer(new JailConfig(false, 100_000, 10, "bhatti"), dir, new Cgroups(List.of()));
        assertThat(off.launcher(new VmIdentity(0, List.of()), paths, null)).isEmpty();
    }

    /** Runs {@code argv}, returning its exit code and output. */
    private static String[] run(String... argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new String[] {Integer.toString(p.waitFor()), out};
    }

    /** The TAP is opened by the daemon's side (the launcher) in the VM's namespace and inherited as fd 5; a missing one is not made. */
    @Test
    void theTapOpenerHandsQemuTheNamedTapAsFd5() throws Exception {
        String ns = "bhatti-jailtest-" + ProcessHandle.current().pid();
        assertThat(run("ip", "netns", "add", ns)[0]).isEqualTo("0");
        try {
            assertThat(run("ip", "-n", ns, "tuntap", "add", "dev", "bttest0", "mode", "tap")[0]).isEqualTo("0");
            var opener = new ArrayList<>(List.of("ip", "netns", "exec", ns, "sh", "-c", "exec 3</dev/null 4</dev/null; exec \"$@\"", "sh"));
            opener.addAll(List.of("perl", "-e", Jailer.OPEN_TAP_AND_EXEC, "bttest0", "sh", "-c", "readlink /proc/self/fd/5; grep iff /proc/self/fdinfo/5"));
            String[] attached = run(opener.toArray(String[]::new));
            assertThat(attached[1]).as(attached[1]).contains("/dev/net/tun").containsPattern("iff:\\s+bttest0");
            assertThat(attached[0]).isEqualTo("0");

            opener.set(opener.indexOf("bttest0"), "bttnone0");
            String[] missing = run(opener.toArray(String[]::new));
            assertThat(missing[0]).isNotEqualTo("0");
            assertThat(missing[1]).contains("there is no TAP bttnone0");
            assertThat(run("ip", "-n", ns, "link", "show", "bttnone0")[0]).as("no TAP made in its place").isNotEqualTo("0");
        } finally {
            run("ip", "netns", "del", ns);
        }
    }
}

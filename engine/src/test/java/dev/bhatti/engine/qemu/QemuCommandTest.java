package dev.bhatti.engine.qemu;

import dev.bhatti.engine.VmSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QemuCommandTest {

    @TempDir Path dir;

    private Path cpuinfo(String flags) throws IOException {
        return Files.writeString(dir.resolve("cpuinfo"), "processor\t: 0\ncpu MHz\t\t: 2596.138\nflags\t\t: fpu vme " + flags + " sse2\n");
    }

    @Test
    void autoPicksKvmOnlyWithAUsableDeviceAndHardwareVirtualisation() throws IOException {
        Path kvm = Files.createFile(dir.resolve("kvm"));
        Path missing = dir.resolve("no-kvm");
        assertThat(Accelerator.choose("auto", kvm, cpuinfo("vmx"))).isEqualTo(Accelerator.KVM);
        assertThat(Accelerator.choose("auto", kvm, cpuinfo("svm"))).isEqualTo(Accelerator.KVM);
        assertThat(Accelerator.choose("auto", kvm, cpuinfo("hypervisor"))).as("paravirtual kvm only").isEqualTo(Accelerator.TCG);
        assertThat(Accelerator.choose("auto", missing, cpuinfo("vmx"))).isEqualTo(Accelerator.TCG);
        assertThat(Accelerator.choose("tcg", kvm, cpuinfo("vmx"))).isEqualTo(Accelerator.TCG);
        assertThat(Accelerator.choose("kvm", missing, cpuinfo(""))).isEqualTo(Accelerator.KVM);
        assertThatThrownBy(() -> Accelerator.choose("hvf", kvm, cpuinfo(""))).hasMessageContaining("auto, kvm or tcg");
    }

    @Test
    void tscFrequencyComesFromCpuinfo() throws IOException {
        assertThat(HostCpu.tscKhz(cpuinfo(""))).isEqualTo(2_596_138);
        assertThat(HostCpu.tscKhz(dir.resolve("absent"))).isEqualTo(2_500_000);
    }

    @Test
    void tcgCommandLineCarriesTheTscHintAndEveryDevice() {
        var images = new ImageCatalog(dir.resolve("images"), "amd64");
        var paths = new VmPaths(dir.resolve("vm1"));
        var spec = new VmSpec("abc123", "dev", 2, 768, "minimal");
        var argv = new QemuCommand("qemu-system-x86_64", Accelerator.TCG, 2_596_138).argv(spec, paths, images);
        String line = String.join(" ", argv);
        assertThat(argv.getFirst()).isEqualTo("qemu-system-x86_64");
        assertThat(line).contains("-accel tcg", "-M microvm", "-m 768M", "-smp 2", "-no-reboot",
                "-kernel " + images.kernel(), "-initrd " + images.initramfs(),
                "file=" + paths.disk() + ",format=qcow2", "path=" + paths.agentSocket() + ",server=on,wait=off",
                "virtserialport,chardev=agent,name=agent", "-pidfile " + paths.pidFile(),
                "file,id=console,path=" + paths.console() + ",append=on", "-serial chardev:console");
        assertThat(argv.get(argv.indexOf("-append") + 1))
                .contains("tsc_early_khz=2596138", "root=/dev/vda", "bhatti.hostname=dev").doesNotContain("-cpu");
    }

    @Test
    void aNetworkedVmGetsItsTapNicAndItsIdentityOnTheKernelCommandLine() {
        var net = new dev.bhatti.engine.GuestNet("bt0123456789abc", "02:aa:bb:cc:dd:ee", "10.200.3.7/24", "10.200.3.1");
        var spec = new VmSpec("abc", "web", 1, 256, "minimal", net);
        var argv = new QemuCommand("qemu-system-x86_64", Accelerator.TCG, 1).argv(spec, new VmPaths(dir), new ImageCatalog(dir, "amd64"));
        assertThat(String.join(" ", argv)).contains("-netdev tap,id=net0,ifname=bt0123456789abc,script=no,downscript=no",
                "-device virtio-net-device,netdev=net0,mac=02:aa:bb:cc:dd:ee");
        assertThat(argv.get(argv.indexOf("-append") + 1)).contains("bhatti.net=10.200.3.7/24,10.200.3.1,02:aa:bb:cc:dd:ee");
        assertThat(String.join(" ", new QemuCommand("q", Accelerator.TCG, 1).argv(new VmSpec("abc", "web", 1, 256, "minimal"),
                new VmPaths(dir), new ImageCatalog(dir, "amd64")))).doesNotContain("-netdev");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new dev.bhatti.engine.GuestNet("tap;rm", "02:aa:bb:cc:dd:ee", "10.0.0.2/24", "10.0.0.1"))
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new dev.bhatti.engine.GuestNet("bt1", "02:aa:bb:cc:dd:ee", "10.0.0.2/33", "10.0.0.1"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aBalloonWithFreePageReportingComesLastAndOnlyForVmsThatHaveOne() throws Exception {
        var net = new dev.bhatti.engine.GuestNet("bt0123456789abc", "02:aa:bb:cc:dd:ee", "10.200.3.7/24", "10.200.3.1");
        var q = new QemuCommand("qemu-system-x86_64", Accelerator.TCG, 1);
        var with = q.argv(new VmSpec("abc", "web", 1, 256, "minimal", net).withBalloon(true), new VmPaths(dir), new ImageCatalog(dir, "amd64"));
        int balloon = with.indexOf("virtio-balloon-device,free-page-reporting=on");
        assertThat(balloon).as("after every other device: VMs made before it keep their devices' places").isGreaterThan(with.lastIndexOf("-netdev"))
                .isEqualTo(with.indexOf("-append") - 1);
        var without = q.argv(new VmSpec("abc", "web", 1, 256, "minimal", net), new VmPaths(dir), new ImageCatalog(dir, "amd64"));
        assertThat(String.join(" ", without)).doesNotContain("balloon");
        // recorded with the VM: a VM made before keeps none through cold wakes and adoption
        Path file = dir.resolve("vm.properties");
        SpecFile.write(file, new VmSpec("abc", "web", 1, 256, "minimal").withBalloon(true));
        assertThat(SpecFile.read(file).balloon()).isTrue();
        SpecFile.write(file, new VmSpec("abc", "web", 1, 256, "minimal"));
        assertThat(SpecFile.read(file).balloon()).isFalse();
    }

    @Test
    void aMemoryFileBacksTheGuestRamSharedAndStopsTheBalloonPunchingHolesInIt() throws Exception {
        var q = new QemuCommand("qemu-system-x86_64", Accelerator.TCG, 1);
        var paths = new VmPaths(dir);
        var spec = new VmSpec("abc", "web", 1, 256, "minimal").withBalloon(true).withMemoryFile(true);
        String line = String.join(" ", q.argv(spec, paths, new ImageCatalog(dir, "amd64"), true));
        assertThat(line).contains("-M microvm,memory-backend=ram0 -object memory-backend-file,id=ram0,size=256M,mem-path="
                + paths.ram() + ",share=on", "-m 256M", "virtio-balloon-device,free-page-reporting=off");
        assertThat(String.join(" ", q.argv(spec.withMemoryFile(false), paths, new ImageCatalog(dir, "amd64"))))
                .contains("-M microvm -m 256M").doesNotContain("memory-backend");
        Path file = dir.resolve("vm.properties");
        SpecFile.write(file, spec);
        assertThat(SpecFile.read(file).memoryFile()).isTrue();
        SpecFile.write(file, spec.withMemoryFile(false));
        assertThat(SpecFile.read(file).memoryFile()).as("VMs made before keep their memory in QEMU").isFalse();
    }

    @Test
    void aMemoryFileIsTheDaemonsAloneFullyAllocatedAndZeroedOnEachBoot() throws Exception {
        Path ram = dir.resolve("memory.ram");
        Files.write(ram, new byte[] {1, 2, 3});
        MemoryFile.createFresh(ram, 64);
        assertThat(Files.size(ram)).isEqualTo(64L << 20);
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(ram))).isEqualTo("rw-------");
        try (var in = Files.newInputStream(ram)) {
            assertThat(in.readNBytes(3)).as("the old content is gone").containsExactly(0, 0, 0);
        }
        // a sparse copy (a template's, a snapshot's) gets its holes allocated, its content kept
        Path copy = dir.resolve("copy.ram");
        try (var ch = java.nio.channels.FileChannel.open(copy, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {7}), 10L << 20);
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {0}), (64L << 20) - 1);
        }
        MemoryFile.allocate(copy, 64);
        assertThat(HostFiles.usage(copy)).isGreaterThanOrEqualTo(64L << 20);
        try (var ch = java.nio.channels.FileChannel.open(copy)) {
            var b = java.nio.ByteBuffer.allocate(1);
            ch.read(b, 10L << 20);
            assertThat(b.get(0)).isEqualTo((byte) 7);
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> MemoryFile.allocate(dir.resolve("none.ram"), 64)).hasMessageContaining("missing");
    }

    @Test
    void kvmCommandLineUsesTheHostCpuAndNoTscHint() {
        var q = new QemuCommand("qemu-system-x86_64", Accelerator.KVM, 1);
        var argv = q.argv(new VmSpec("abc", "h", 1, 256, "minimal"), new VmPaths(dir), new ImageCatalog(dir, "amd64"));
        assertThat(String.join(" ", argv)).contains("-accel kvm -cpu host");
        assertThat(argv.get(argv.indexOf("-append") + 1)).doesNotContain("tsc_early_khz");
    }

    @Test
    void tiersAreDiscoveredFromFileNames() throws IOException {
        Path images = Files.createDirectory(dir.resolve("images"));
        for (String f : new String[]{"rootfs-minimal-amd64.ext4", "rootfs-browser-amd64.ext4", "rootfs-docker-arm64.ext4",
                "rootfs-minimal-amd64.ext4.hash", "vmlinuz-amd64", "rootfs-Bad Name-amd64.ext4"}) {
            Files.createFile(images.resolve(f));
        }
        assertThat(new ImageCatalog(images, "amd64").tiers()).containsExactly("browser", "minimal");
        assertThat(new ImageCatalog(images, "arm64").tiers()).containsExactly("docker");
        assertThat(new ImageCatalog(dir.resolve("none"), "amd64").tiers()).isEmpty();
    }

    @Test
    void aConsoleLogPastItsLimitKeepsOnlyItsTail() throws IOException {
        Path log = dir.resolve("console.log");
        Files.writeString(log, "small");
        assertThat(ConsoleLogs.rotateIfLarge(log)).isFalse();
        byte[] big = new byte[(int) ConsoleLogs.MAX_BYTES + 10];
        java.util.Arrays.fill(big, (byte) 'x');
        big[big.length - 1] = 'E';
        Files.write(log, big);
        assertThat(ConsoleLogs.rotateIfLarge(log)).isTrue();
        assertThat(Files.size(log)).isZero();
        byte[] kept = Files.readAllBytes(dir.resolve("console.log.1"));
        assertThat(kept).hasSize(ConsoleLogs.KEEP_TAIL);
        assertThat(kept[kept.length - 1]).isEqualTo((byte) 'E');
    }

    @Test
    void socketPathsMustFitSunPath() {
        assertThat(new VmPaths(Path.of("/var/lib/bhatti/sandboxes/0123456789abcdef")).socketPathsFit()).isTrue();
        assertThat(new VmPaths(Path.of("/" + "x".repeat(100) + "/sandboxes/0123456789abcdef")).socketPathsFit()).isFalse();
    }
}

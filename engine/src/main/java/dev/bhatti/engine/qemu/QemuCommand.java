package dev.bhatti.engine.qemu;

import dev.bhatti.engine.GuestNet;
import dev.bhatti.engine.VmSpec;
import dev.bhatti.engine.VolumeDisk;

import java.util.ArrayList;
import java.util.List;

/**
 * The QEMU command line for one VM: a microvm machine (no PCI, no firmware, fast boot) with the kernel
 * and initramfs passed directly, the copy-on-write root disk, an entropy source, the agent's
 * virtio-serial port bridged to a Unix socket, the serial console to a file and a QMP socket.
 */
record QemuCommand(String qemuBinary, Accelerator accelerator, long tscKhz) {

    /** The disk as inherited fds (see {@link Jailer#PLACE_AND_EXEC}): read-write and read-only, QEMU picks by mode. */
    static final List<String> DISK_FDSET = List.of("-add-fd", "fd=3,set=1,opaque=disk-rw", "-add-fd", "fd=4,set=1,opaque=disk-ro");

    /**
     * Image locking off: QEMU's two open files of the same image (read-write and read-only) would hold
     * locks against each other when a migration hands the disk over and back; one QEMU per VM is the
     * engine's to ensure.
     */
    static final String DISK_FROM_FDS = "/dev/fdset/1,file.locking=off";

    /** The tools disk, opened read-only by the launcher as fd {@value Jailer#TOOLS_FD}. */
    static final List<String> TOOLS_FDSET = List.of("-add-fd", "fd=" + Jailer.TOOLS_FD + ",set=2,opaque=tools-ro");
    static final String TOOLS_FROM_FD = "/dev/fdset/2";
    static final String ROOT_SERIAL = "bhatti-root";
    static final String TOOLS_SERIAL = "bhatti-tools";

    List<String> argv(VmSpec spec, VmPaths paths, ImageCatalog images) {
        return argv(spec, paths, images, false);
    }

    /**
     * {@code jailed}: the launcher has opened the disk as fds 3 and 4 (a chrooted QEMU cannot reopen it by
     * path) and the TAP as fd 5 ({@link Jailer#OPEN_TAP_AND_EXEC}).
     */
    List<String> argv(VmSpec spec, VmPaths paths, ImageCatalog images, boolean jailed) {
        return argv(spec, paths, images, jailed, false);
    }

    /**
     * {@code neutral}: the guest boots as no sandbox in particular (hostname and network identity of
     * {@link #NEUTRAL_HOSTNAME} and {@link #NEUTRAL_NET}), so that its memory can become a template that
     * VMs of other users restore; it takes its real identity from the agent once it runs.
     */
    List<String> argv(VmSpec spec, VmPaths paths, ImageCatalog images, boolean jailed, boolean neutral) {
        var a = new ArrayList<String>();
        a.add(qemuBinary);
        if (accelerator == Accelerator.KVM) {
            a.addAll(List.of("-accel", "kvm", "-cpu", "host"));
        } else {
            // TCG's translated code lives in a buffer of 1 GiB by default, filled as the guest runs:
            // bounded here so that the VM's memory limit can be its RAM plus a known overhead
            a.addAll(List.of("-accel", "tcg,tb-size=" + VmLimits.TCG_CODE_MIB));
        }
        if (spec.memoryFile()) {
            // opened by its full path while QEMU is still root, before its chroot; the engine made the file
            a.addAll(List.of("-M", "microvm,memory-backend=ram0",
                    "-object", "memory-backend-file,id=ram0,size=" + spec.memoryMb() + "M,mem-path=" + paths.ram() + ",share=on"));
        } else {
            a.addAll(List.of("-M", "microvm"));
        }
        a.addAll(List.of(
                "-m", spec.memoryMb() + "M",
                "-smp", Integer.toString(spec.cpus()),
                "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
                "-kernel", images.kernel().toString(),
                "-initrd", images.initramfs().toString(),
                "-drive", "id=root,file=" + (jailed ? DISK_FROM_FDS : paths.disk().toString()) + ",format=qcow2,if=none,discard=unmap",
                "-device", "virtio-blk-device,drive=root" + (spec.tools() != null ? ",serial=" + ROOT_SERIAL : ""),
                "-object", "rng-random,id=rng0,filename=/dev/urandom",
                "-device", "virtio-rng-device,rng=rng0",
                "-device", "virtio-serial-device",
                "-chardev", "socket,id=agent,path=" + paths.agentSocket() + ",server=on,wait=off",
                "-device", "virtserialport,chardev=agent,name=agent",
                // append=on lets the engine cut the file down while QEMU keeps writing (ConsoleLogs)
                "-chardev", "file,id=console,path=" + paths.console() + ",append=on",
                "-serial", "chardev:console",
                "-qmp", "unix:" + paths.qmpSocket() + ",server=on,wait=off",
                "-pidfile", paths.pidFile().toString()));
        if (jailed) a.addAll(DISK_FDSET);
        if (spec.tools() != null) {
            // Found by serial in the guest: with two disks, probe order is not the command line's.
            a.addAll(List.of("-drive", "id=tools,file=" + (jailed ? TOOLS_FROM_FD : spec.tools().toString())
                            + ",format=raw,if=none,read-only=on",
                    "-device", "virtio-blk-device,drive=tools,serial=" + TOOLS_SERIAL));
            if (jailed) a.addAll(TOOLS_FDSET);
        }
        addVolumes(a, spec.volumes(), jailed);
        if (spec.net() != null) {
            // The TAP exists already (the server made it and plugged it into the user's bridge).
            String tap = jailed ? "fd=" + Jailer.TAP_FD : "ifname=" + spec.net().tap() + ",script=no,downscript=no";
            a.addAll(List.of("-netdev", "tap,id=net0," + tap,
                    "-device", "virtio-net-device,netdev=net0,mac=" + spec.net().mac()));
        }
        // Last, so that the devices of VMs made before it sit where their snapshots expect them. The guest
        // reports pages it has freed (2 MiB at a time); QEMU drops them, so the host holds what is in use.
        // Not into a memory file: dropping punches holes, and a page refilled on a full disk kills QEMU
        // (its pages are the host's page cache, which the host reclaims by writing them to the file).
        if (spec.balloon()) a.addAll(List.of("-device", "virtio-balloon-device,free-page-reporting=" + (spec.memoryFile() ? "off" : "on")));
        a.addAll(List.of(
                "-append", kernelArgs(spec, neutral)));
        return a;
    }

    /** The first fd the launcher opens volumes as, after the tools disk's. */
    static final int FIRST_VOLUME_FD = Jailer.TOOLS_FD + 1;
    /** The fd set of volume 0; the disk and the tools disk have 1 and 2. */
    private static final int FIRST_VOLUME_SET = 3;

    /**
     * The fds the launcher opens for each volume, in order: read-write then read-only for a writable one
     * (QEMU reopens its images when a migration hands them over and back, picking the fd by mode), the
     * read-only one alone otherwise.
     */
    static List<int[]> volumeFds(List<VolumeDisk> volumes) {
        var fds = new ArrayList<int[]>();
        int next = FIRST_VOLUME_FD;
        for (VolumeDisk v : volumes) {
            if (v.readOnly()) {
                fds.add(new int[] {next++});
            } else {
                fds.add(new int[] {next, next + 1});
                next += 2;
            }
        }
        return fds;
    }

    /** Each volume as a raw virtio disk with its serial; the agent finds it by that serial and mounts it. */
    private static void addVolumes(List<String> a, List<VolumeDisk> volumes, boolean jailed) {
        var fds = volumeFds(volumes);
        for (int i = 0; i < volumes.size(); i++) {
            VolumeDisk v = volumes.get(i);
            int set = FIRST_VOLUME_SET + i;
            String file = jailed ? "/dev/fdset/" + set + ",file.locking=off" : v.file().toString();
            a.addAll(List.of("-drive", "id=vol" + i + ",file=" + file + ",format=raw,if=none,discard=unmap" + (v.readOnly() ? ",read-only=on" : ""),
                    "-device", "virtio-blk-device,drive=vol" + i + ",serial=" + VolumeDisk.serial(i)));
            if (jailed) {
                int[] f = fds.get(i);
                for (int j = 0; j < f.length; j++) {
                    boolean ro = v.readOnly() || j == 1;
                    a.addAll(List.of("-add-fd", "fd=" + f[j] + ",set=" + set + ",opaque=vol" + i + (ro ? "-ro" : "-rw")));
                }
            }
        }
    }

    static final String NEUTRAL_HOSTNAME = "bhatti";
    /** The network identity of a template's boot: link-local, reaching nothing, no sandbox's. */
    static final GuestNet NEUTRAL_NET = new GuestNet("tap0", "02:00:00:00:00:01", "169.254.0.2/30", "169.254.0.1");

    String kernelArgs(VmSpec spec) { return kernelArgs(spec, false); }

    String kernelArgs(VmSpec spec, boolean neutral) {
        var k = new StringBuilder("console=ttyS0 panic=-1 quiet root=/dev/vda");
        if (accelerator == Accelerator.TCG) {
            k.append(" tsc_early_khz=").append(tscKhz).append(" tsc=reliable");
        }
        if (spec.tools() != null) k.append(" bhatti.root=").append(ROOT_SERIAL).append(" bhatti.tools=").append(TOOLS_SERIAL);
        k.append(" bhatti.hostname=").append(neutral ? NEUTRAL_HOSTNAME : spec.hostname());
        if (spec.diskMb() > 0) k.append(" bhatti.grow=1"); // the disk is larger than its file system
        if (spec.net() != null) k.append(" bhatti.net=").append((neutral ? NEUTRAL_NET : spec.net()).wire());
        return k.toString();
    }
}

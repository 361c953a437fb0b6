package dev.bhatti.engine.qemu;

import dev.bhatti.engine.VmSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Confines each VM's QEMU the way Firecracker's jailer confines its VMM: a cleared environment, its own
 * cgroup (placed before QEMU runs, by a tiny shell that writes its own pid into the cgroups and then
 * execs QEMU), its own unprivileged uid/gid and a chroot into the VM's directory (QEMU's {@code -runas}
 * and {@code -chroot}: it opens the kernel, disk, TAP, /dev/kvm and binds its sockets as root, then drops
 * to the VM's ids just before the guest runs), and a seccomp filter that forbids spawning processes.
 */
final class Jailer {
    private static final Logger log = LoggerFactory.getLogger(Jailer.class);

    /** The only variable QEMU and the shell before it get: where the binaries are. */
    static final Map<String, String> ENVIRONMENT = Map.of("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");

    /**
     * Opens the VM's disk as fds 3 (read-write) and 4 (read-only), writes the shell's own pid (QEMU's,
     * after the exec) into each cgroup given, then execs the rest:
     * {@code bash -c SCRIPT bhatti-jail <disk> <tools disk or ""> <volumes> <rw|ro> <file>... <n> <cgroup dir>... <qemu argv>}
     * (bash: volumes take fds above 9, which dash cannot redirect) (the tools
     * disk, when there is one, as fd {@value #TOOLS_FD}, read-only). QEMU takes the disk from
     * these fds ({@link QemuCommand#DISK_FDSET}): it reopens its image when a migration hands the disk over
     * and back, which by path would fail inside the chroot.
     */
    static final String PLACE_AND_EXEC = "exec 3<>\"$1\" 4<\"$1\" || exit 125; shift;"
            + " if [ -n \"$1\" ]; then exec 6<\"$1\" || exit 125; fi; shift;"
            // volumes: <count> then <rw|ro> <file> each, opened from fd 7 up as QemuCommand.volumeFds says
            + " v=$1; shift; fd=" + QemuCommand.FIRST_VOLUME_FD + "; while [ \"$v\" -gt 0 ]; do f=$2;"
            + " if [ \"$1\" = rw ]; then eval \"exec $fd<>\\\"\\$f\\\"\" || exit 125; fd=$((fd+1)); fi;"
            + " eval \"exec $fd<\\\"\\$f\\\"\" || exit 125; fd=$((fd+1)); shift 2; v=$((v-1)); done;"
            + " n=$1; shift; while [ \"$n\" -gt 0 ]; do echo $$ > \"$1/cgroup.procs\" || exit 125;"
            // bash's exec exports SHLVL (even unset); QEMU gets PATH alone
            + " shift; n=$((n-1)); done; exec env -u SHLVL \"$@\"";

    /**
     * Attaches to the VM's TAP (by name, in the network namespace it runs in) as fd {@value #TAP_FD} and
     * execs the rest of its arguments: the daemon side opens the TAP, QEMU only inherits it. Perl because
     * attaching takes the TUNSETIFF ioctl, which no shell does, and perl-base is Essential on Debian.
     * Flags: IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, as QEMU itself would ask. {@code $^F = 5}: fds up to 5
     * stay open across exec (the disk holds 3 and 4, so the TAP usually opens as 5 itself).
     */
    static final String OPEN_TAP_AND_EXEC = "$^F = 5; use POSIX (); my $n = shift;"
            + " -e \"/sys/class/net/$n\" or die \"bhatti-jail: there is no TAP $n\\n\";" // TUNSETIFF would make one, plugged nowhere
            + " open(my $t, '+<', '/dev/net/tun') or die \"bhatti-jail: /dev/net/tun: $!\\n\";"
            + " ioctl($t, 0x400454ca, pack('Z16 s x22', $n, 0x5002)) or die \"bhatti-jail: cannot attach to TAP $n: $!\\n\";"
            + " fileno($t) == 5 or defined POSIX::dup2(fileno($t), 5) or die \"bhatti-jail: dup2: $!\\n\";"
            + " exec { $ARGV[0] } @ARGV or die \"bhatti-jail: exec $ARGV[0]: $!\\n\";";
    static final int TAP_FD = 5;
    /** The tools disk of a VM of an image that is not a tier, read-only (after the TAP's fd). */
    static final int TOOLS_FD = 6;

    /**
     * QEMU 7.2 drops to the {@code -runas} ids with setgid/setgroups/setuid after installing its seccomp
     * filter, so elevateprivileges=deny would kill it there (SIGSYS); once the drop is done real, effective
     * and saved ids are all the VM's, it holds no capability and no_new_privs is set, so there is nothing
     * left to elevate to. Without the uid drop (jail disabled) the set*id calls are denied.
     */
    static final String SECCOMP_JAILED = "on,obsolete=deny,elevateprivileges=allow,spawn=deny,resourcecontrol=deny";
    static final String SECCOMP_UNJAILED = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny";

    private final JailConfig config;
    private final Path sandboxesDir;
    private final Cgroups cgroups;

    Jailer(JailConfig config, Path sandboxesDir, Cgroups cgroups) {
        this.config = config;
        this.sandboxesDir = sandboxesDir;
        this.cgroups = cgroups;
    }

    static Jailer forHost(JailConfig config, Path sandboxesDir) {
        if (!config.enabled()) {
            log.warn("the VM jail is disabled (engine.jail): QEMU runs as the daemon's user, without chroot or cgroup");
            return new Jailer(config, sandboxesDir, new Cgroups(List.of()));
        }
        Cgroups found;
        try {
            found = Cgroups.detect(config.cgroupParent());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the host's cgroups: " + e.getMessage(), e);
        }
        var used = found.hierarchies().stream().flatMap(h -> h.controllers().stream()).toList();
        for (var h : found.hierarchies()) log.info("VM cgroups: {} (v{}) in {}", h.controllers(), h.v2() ? 2 : 1, h.parentDir());
        if (!used.containsAll(Cgroups.CONTROLLERS)) {
            log.warn("the host offers no cgroup for {}: VMs run without that limit", Cgroups.CONTROLLERS.stream().filter(c -> !used.contains(c)).toList());
        }
        return new Jailer(config, sandboxesDir, found);
    }

    boolean enabled() { return config.enabled(); }

    /**
     * Everything a VM's QEMU needs before it is started: its ids (allocated on first use, then kept), its
     * cgroups with the spec's limits, and its directory reachable by its ids. Returns its identity.
     */
    synchronized VmIdentity prepare(VmPaths paths, VmSpec spec, Accelerator accelerator) throws IOException {
        if (!config.enabled()) return new VmIdentity(0, List.of());
        VmIdentity id = identity(paths);
        var dirs = cgroups.create(spec.id(), VmLimits.of(spec, accelerator));
        id = id.withCgroups(dirs);
        id.write(paths.dir());
        openDir(paths, id);
        return id;
    }

    /** The VM's recorded identity, or a new one with the lowest uid no other VM directory holds. */
    private VmIdentity identity(VmPaths paths) throws IOException {
        if (Files.exists(VmIdentity.file(paths.dir()))) return VmIdentity.read(paths.dir());
        Set<Integer> taken = new HashSet<>();
        if (Files.isDirectory(sandboxesDir)) {
            try (var dirs = Files.list(sandboxesDir)) {
                for (Path d : dirs.toList()) {
                    if (d.equals(paths.dir()) || !Files.exists(VmIdentity.file(d))) continue;
                    try {
                        taken.add(VmIdentity.read(d).uid());
                    } catch (IOException e) {
                        log.warn("{}: {}", d, e.getMessage()); // a VM being destroyed; its uid is free soon
                    }
                }
            }
        }
        try {
            var id = new VmIdentity(VmIdentity.allocate(taken, config.uidBase(), config.uidCount()), List.of());
            id.write(paths.dir());
            return id;
        } catch (IllegalStateException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * The VM's directory is QEMU's root after the chroot: owned by root, its group the VM's, mode 0710, so
     * QEMU may reach the files the daemon hands it (the migration socket) and list or create nothing.
     */
    void openDir(VmPaths paths, VmIdentity id) throws IOException {
        if (!config.enabled()) return;
        Files.setAttribute(paths.dir(), "unix:gid", id.gid());
        Files.setPosixFilePermissions(paths.dir(), PosixFilePermissions.fromString("rwx--x---"));
    }

    /** Gives a socket the daemon listens on to the VM's ids, so its QEMU can connect to it. */
    void handOver(Path socket, VmIdentity id) throws IOException {
        if (!config.enabled()) return;
        Files.setAttribute(socket, "unix:uid", id.uid());
        Files.setAttribute(socket, "unix:gid", id.gid());
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    }

    /** The identity recorded for a VM (a running one's, to hand it a socket), or the daemon's own when not jailed. */
    VmIdentity recorded(VmPaths paths) throws IOException {
        if (!config.enabled()) return new VmIdentity(0, List.of());
        return VmIdentity.read(paths.dir());
    }

    /** The command that starts {@code qemu} inside the VM's cgroups, its disk open for it. */
    List<String> launcher(VmIdentity id, VmPaths paths, VmSpec spec) {
        if (!config.enabled()) return List.of();
        var a = new ArrayList<>(List.of("bash", "-c", PLACE_AND_EXEC, "bhatti-jail", paths.disk().toString(),
                spec.tools() == null ? "" : spec.tools().toString(), Integer.toString(spec.volumes().size())));
        for (var v : spec.volumes()) {
            a.add(v.readOnly() ? "ro" : "rw");
            a.add(v.file().toString());
        }
        a.add(Integer.toString(id.cgroups().size()));
        for (Path d : id.cgroups()) a.add(d.toString());
        return a;
    }

    /** The step that opens the VM's TAP for QEMU (after `ip netns exec`: the TAP lives in that namespace). */
    List<String> tapOpener(VmSpec spec) {
        if (!config.enabled() || spec.net() == null) return List.of();
        return List.of("perl", "-e", OPEN_TAP_AND_EXEC, spec.net().tap());
    }

    /** QEMU's own confinement arguments. */
    List<String> qemuArgs(VmIdentity id, VmPaths paths) {
        if (!config.enabled()) return List.of("-sandbox", SECCOMP_UNJAILED);
        return List.of("-sandbox", SECCOMP_JAILED, "-runas", id.uid() + ":" + id.gid(), "-chroot", paths.dir().toString());
    }

    /** How QEMU, from inside its chroot, names a file of the VM's directory. */
    String inside(VmPaths paths, Path file) {
        return config.enabled() ? "/" + paths.dir().relativize(file) : file.toString();
    }

    /** Removes the VM's cgroups once its QEMU has ended. */
    void release(VmPaths paths, String vmId) {
        var dirs = new ArrayList<>(cgroups.dirsOf(vmId));
        try {
            if (Files.exists(VmIdentity.file(paths.dir()))) {
                for (Path p : VmIdentity.read(paths.dir()).cgroups()) if (!dirs.contains(p)) dirs.add(p);
            }
        } catch (IOException e) {
            log.warn("vm {}: {}", vmId, e.getMessage());
        }
        Cgroups.remove(dirs);
    }
}

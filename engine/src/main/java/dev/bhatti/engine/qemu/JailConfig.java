package dev.bhatti.engine.qemu;

/**
 * How each VM's QEMU is confined. With {@code enabled}, every VM gets its own uid and gid from
 * {@code [uidBase, uidBase + uidCount)} (numeric, no passwd entries), a chroot into its own directory,
 * a seccomp filter and its own cgroup named {@code <cgroupParent>/<vm id>} below the daemon's own cgroup
 * in each hierarchy. Disabled, QEMU still gets a cleared environment but runs as the daemon's user.
 */
public record JailConfig(boolean enabled, int uidBase, int uidCount, String cgroupParent) {

    public JailConfig {
        if (uidBase < 1000 || uidCount < 1 || (long) uidBase + uidCount > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("the VM uid range must start at 1000 or above and hold at least one id");
        }
        if (cgroupParent == null || !cgroupParent.matches("[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*") || cgroupParent.contains("..")) {
            throw new IllegalArgumentException("the cgroup parent must be a relative path of plain names, not '" + cgroupParent + "'");
        }
    }

    /** Enabled unless the daemon's environment says {@code BHATTI_JAIL=off} (for hosts without cgroups or chroot). */
    public static JailConfig defaults() {
        return enabled(allowedByEnvironment());
    }

    /** False when the daemon's environment says {@code BHATTI_JAIL=off}, whatever its config file says. */
    public static boolean allowedByEnvironment() {
        return !"off".equals(System.getenv("BHATTI_JAIL"));
    }

    /** The default uid range and cgroup name, on or off. */
    public static JailConfig enabled(boolean enabled) {
        return new JailConfig(enabled, 100_000, 65_536, "bhatti");
    }
}

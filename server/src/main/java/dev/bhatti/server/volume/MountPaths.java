package dev.bhatti.server.volume;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.sandbox.Limits;

import java.util.List;

/** Where in a guest a volume may be mounted. */
public final class MountPaths {
    /** Where a volume must not hide what the guest needs to run (or what the sandbox's tools are). */
    private static final List<String> SYSTEM_DIRS = List.of("/", "/proc", "/sys", "/dev", "/dev/pts", "/dev/shm", "/run", "/tmp", "/etc",
            "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/usr", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/local", "/usr/local/bin",
            "/boot", "/root", "/var", "/var/lib", "/opt", "/opt/bhatti", "/home", "/home/lohar");

    private MountPaths() {}

    /** The path, normalised, if a volume may take it: absolute, plain, and not a directory the guest's system needs. */
    public static String check(String path) {
        if (!path.startsWith("/")) throw DomainException.invalid("a volume's mount path must be absolute, got '" + Limits.printable(path) + "'");
        if (path.length() > 200) throw DomainException.invalid("a volume's mount path must be at most 200 characters");
        if (!path.matches("[A-Za-z0-9._/@+-]+")) {
            throw DomainException.invalid("a volume's mount path may hold letters, digits and . _ - @ + / only, got '" + Limits.printable(path) + "'");
        }
        for (String part : path.split("/")) {
            if (part.equals("..") || part.equals(".")) throw DomainException.invalid("a volume's mount path must not contain . or .. parts: " + path);
        }
        String normal = path.replaceAll("/+", "/");
        if (normal.length() > 1 && normal.endsWith("/")) normal = normal.substring(0, normal.length() - 1);
        if (SYSTEM_DIRS.contains(normal) || normal.startsWith("/proc/") || normal.startsWith("/sys/") || normal.startsWith("/dev/")) {
            throw DomainException.invalid("a volume cannot be mounted at " + normal + ": the guest's system needs it; use a directory like /data or /workspace/db");
        }
        return normal;
    }
}

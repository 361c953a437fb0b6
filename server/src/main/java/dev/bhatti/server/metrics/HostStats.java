package dev.bhatti.server.metrics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The host as Linux reports it in /proc: load averages, memory, the disk under the data directory, and
 * one process's resident memory. A value that cannot be read is -1 (not Linux, a process gone):
 * metrics never fail a scrape over it.
 */
public record HostStats(double load1, double load5, double load15, int cpus, long memoryTotalBytes, long memoryAvailableBytes,
                        long diskTotalBytes, long diskFreeBytes) {

    /** The host now; the disk is the file system that holds {@code dataDir}. */
    public static HostStats read(Path dataDir) {
        double[] load = loadAverages(Path.of("/proc/loadavg"));
        long total = -1, available = -1;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) total = kbField(line);
                else if (line.startsWith("MemAvailable:")) available = kbField(line);
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: unknown
        }
        long diskTotal = -1, diskFree = -1;
        try {
            var store = Files.getFileStore(dataDir);
            diskTotal = store.getTotalSpace();
            diskFree = store.getUsableSpace();
        } catch (IOException e) {
            // the data directory is gone: unknown
        }
        return new HostStats(load[0], load[1], load[2], Runtime.getRuntime().availableProcessors(), total, available, diskTotal, diskFree);
    }

    static double[] loadAverages(Path loadavg) {
        try {
            String[] p = Files.readString(loadavg).strip().split("\\s+");
            return new double[] {Double.parseDouble(p[0]), Double.parseDouble(p[1]), Double.parseDouble(p[2])};
        } catch (IOException | RuntimeException e) {
            return new double[] {-1, -1, -1};
        }
    }

    /**
     * The resident memory of process {@code pid} in bytes (VmRSS of /proc/PID/status: anonymous, file and
     * shared pages it maps now), or -1 when it is gone or unreadable.
     */
    public static long rssBytes(long pid) { return pid <= 0 ? -1 : rssBytes(Path.of("/proc", Long.toString(pid), "status")); }

    static long rssBytes(Path status) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmRSS:")) return kbField(line);
            }
        } catch (IOException | RuntimeException e) {
            // the process ended meanwhile
        }
        return -1;
    }

    /** A "Name:   1234 kB" line of /proc, in bytes. */
    private static long kbField(String line) {
        String[] p = line.substring(line.indexOf(':') + 1).strip().split("\\s+");
        long value = Long.parseLong(p[0]);
        return p.length > 1 && p[1].equals("kB") ? value * 1024 : value;
    }
}

package dev.bhatti.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;

/** What the numbers depend on: accelerator, CPU, memory, filesystem, QEMU and kernel versions. Printed atop the report. */
final class HostFacts {
    private final Map<String, String> facts = new LinkedHashMap<>();

    void put(String key, String value) { facts.put(key, value); }

    Map<String, String> all() { return facts; }

    static HostFacts collect(Options o) {
        var f = new HostFacts();
        f.put("date", ZonedDateTime.now(ZoneOffset.UTC).withNano(0).toString());
        f.put("host", hostname());
        f.put("mode", o.quick ? "quick (few iterations; numbers indicative only)" : "full");
        boolean devKvm = Files.isReadable(Path.of("/dev/kvm")) && Files.isWritable(Path.of("/dev/kvm"));
        f.put("kvm", "/dev/kvm " + (devKvm ? "accessible" : "not accessible") + ", vmx/svm flag " + (virtFlag() ? "present" : "absent"));
        f.put("cpu", cpuModel());
        f.put("cores", Runtime.getRuntime().availableProcessors() + " (nproc)");
        f.put("memory", memTotal());
        f.put("filesystem", o.dataDir == null ? "unknown" : fileSystem(o.dataDir));
        f.put("qemu", firstLine("qemu-system-x86_64", "--version"));
        f.put("host kernel", readFirst("/proc/sys/kernel/osrelease"));
        f.put("host zero page", ZeroPageProbe.describe());
        f.put("bench JVM", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        f.put("load average at start", loadAvg());
        return f;
    }

    static String hostname() {
        String h = readFirst("/proc/sys/kernel/hostname");
        int dot = h.indexOf('.');
        return (dot > 0 ? h.substring(0, dot) : h).replaceAll("[^A-Za-z0-9_-]", "-");
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (IOException ignored) {
            // not Linux
        }
        return "unknown";
    }

    static boolean virtFlag() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .anyMatch(l -> l.startsWith("flags") && (l.contains(" vmx") || l.contains(" svm")));
        } catch (IOException e) {
            return false;
        }
    }

    static String memTotal() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    return String.format(Locale.ROOT, "%.1f GiB", kb / 1048576.0);
                }
            }
        } catch (IOException | NumberFormatException ignored) {
            // fall through
        }
        return "unknown";
    }

    /** The filesystem type of the data dir and the device it is on (images are usually a symlink elsewhere). */
    static String fileSystem(Path dir) {
        try {
            var store = Files.getFileStore(dir);
            return store.type() + " (" + store.name() + ", data dir " + dir + ")";
        } catch (IOException e) {
            return "unknown";
        }
    }

    static String loadAvg() {
        String[] p = readFirst("/proc/loadavg").split(" ");
        return p.length >= 3 ? p[0] + " " + p[1] + " " + p[2] : "unknown";
    }

    static String readFirst(String file) {
        try {
            return Files.readAllLines(Path.of(file)).getFirst().trim();
        } catch (Exception e) {
            return "unknown";
        }
    }

    static String firstLine(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).lines().findFirst().orElse("unknown");
            p.waitFor();
            return out.trim();
        } catch (Exception e) {
            return "unknown";
        }
    }

    /** Whether {@code tool} is an executable in a directory of PATH. */
    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }
}

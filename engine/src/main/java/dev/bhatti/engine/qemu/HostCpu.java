package dev.bhatti.engine.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/** Facts about the host CPU that the guest command line needs. */
final class HostCpu {
    private static final Pattern MHZ = Pattern.compile("^cpu MHz\\s*:\\s*([0-9.]+)", Pattern.MULTILINE);

    private HostCpu() {}

    /**
     * The TSC frequency in kHz. A microvm guest under TCG cannot calibrate its TSC against a PIT it does
     * not have, so it is told the frequency on the kernel command line.
     */
    static long tscKhz(Path cpuinfo) {
        try {
            var m = MHZ.matcher(Files.readString(cpuinfo));
            if (m.find()) return Math.round(Double.parseDouble(m.group(1)) * 1000);
        } catch (IOException | NumberFormatException e) {
            // fall through to a common default
        }
        return 2_500_000;
    }

    /** The Debian architecture name used in image file names. */
    static String debianArch() {
        return switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            default -> System.getProperty("os.arch");
        };
    }
}

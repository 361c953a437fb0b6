package dev.bhatti.engine.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * How QEMU runs guest code. KVM needs hardware virtualisation: a usable /dev/kvm alone is not enough
 * (some clouds expose a paravirtual KVM on which stock kernels hang), so auto also requires the
 * vmx or svm CPU flag. Everything else uses TCG, QEMU's software emulation.
 */
public enum Accelerator {
    KVM, TCG;

    public String wire() { return name().toLowerCase(Locale.ROOT); }

    private static final Pattern HW_FLAG = Pattern.compile("^flags\\s*:.*\\b(vmx|svm)\\b", Pattern.MULTILINE);

    /** Resolves the configured mode ("auto", "kvm" or "tcg"). */
    public static Accelerator choose(String mode, Path devKvm, Path cpuinfo) {
        return switch (mode.toLowerCase(Locale.ROOT)) {
            case "kvm" -> KVM;
            case "tcg" -> TCG;
            case "auto", "" -> kvmUsable(devKvm) && hardwareVirtualisation(cpuinfo) ? KVM : TCG;
            default -> throw new IllegalArgumentException("engine.accel must be auto, kvm or tcg, not '" + mode + "'");
        };
    }

    public static Accelerator detect(String mode) {
        return choose(mode, Path.of("/dev/kvm"), Path.of("/proc/cpuinfo"));
    }

    static boolean kvmUsable(Path devKvm) {
        return Files.isReadable(devKvm) && Files.isWritable(devKvm);
    }

    static boolean hardwareVirtualisation(Path cpuinfo) {
        try {
            return HW_FLAG.matcher(Files.readString(cpuinfo)).find();
        } catch (IOException e) {
            return false;
        }
    }
}

package dev.bhatti.engine.qemu;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Settings of the QEMU engine. {@code accel} is auto, kvm or tcg; {@code bootTimeout} bounds the wait
 * for the agent's first answer (software emulation boots in seconds, not milliseconds).
 */
public record EngineConfig(Path dataDir, String accel, String qemuBinary, String qemuImg, Duration bootTimeout) {

    public static EngineConfig defaults(Path dataDir) {
        return new EngineConfig(dataDir, "auto", "qemu-system-x86_64", "qemu-img", Duration.ofSeconds(120));
    }

    public Path imagesDir() { return dataDir.resolve("images"); }

    public Path sandboxesDir() { return dataDir.resolve("sandboxes"); }

    /** Named snapshots, one directory each; they outlive the VMs they were taken from. */
    public Path snapshotsDir() { return dataDir.resolve("snapshots"); }
}

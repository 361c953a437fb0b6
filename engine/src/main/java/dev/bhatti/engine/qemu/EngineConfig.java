package dev.bhatti.engine.qemu;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Settings of the QEMU engine. {@code accel} is auto, kvm or tcg; {@code bootTimeout} bounds the wait
 * for the agent's first answer (software emulation boots in seconds, not milliseconds);
 * {@code netns} names the network namespace QEMU runs in (where the TAPs are), or is null; {@code jail}
 * says how each VM's QEMU is confined; {@code memoryFile}: whether new VMs keep their RAM in a file
 * ({@link dev.bhatti.engine.VmSpec#withMemoryFile}).
 */
public record EngineConfig(Path dataDir, String accel, String qemuBinary, String qemuImg, Duration bootTimeout, String netns,
                           JailConfig jail, boolean memoryFile) {

    public EngineConfig(Path dataDir, String accel, String qemuBinary, String qemuImg, Duration bootTimeout, String netns, JailConfig jail) {
        this(dataDir, accel, qemuBinary, qemuImg, bootTimeout, netns, jail, false);
    }

    public EngineConfig(Path dataDir, String accel, String qemuBinary, String qemuImg, Duration bootTimeout, String netns) {
        this(dataDir, accel, qemuBinary, qemuImg, bootTimeout, netns, JailConfig.defaults());
    }

    public EngineConfig(Path dataDir, String accel, String qemuBinary, String qemuImg, Duration bootTimeout) {
        this(dataDir, accel, qemuBinary, qemuImg, bootTimeout, null);
    }

    public static EngineConfig defaults(Path dataDir) {
        return new EngineConfig(dataDir, "auto", "qemu-system-x86_64", "qemu-img", Duration.ofSeconds(120));
    }

    public Path imagesDir() { return dataDir.resolve("images"); }

    public Path sandboxesDir() { return dataDir.resolve("sandboxes"); }

    /** Named snapshots, one directory each; they outlive the VMs they were taken from. */
    public Path snapshotsDir() { return dataDir.resolve("snapshots"); }

    /** Booted templates that creates restore instead of booting (engine-owned; no sandbox's data). */
    public Path templatesDir() { return dataDir.resolve("templates"); }
}

package dev.bhatti.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes when the agent became ready, by the guest's own clock: milliseconds since the kernel booted
 * and since this JVM started. The host cannot see these (its clock also counts QEMU's start and the
 * firmware); the benchmark reads the file to split a boot into kernel and agent start.
 */
final class ReadyStamp {

    static final Path FILE = Path.of("/run/bhatti/agent-ready");
    /** USER_HZ: the unit of /proc/self/stat's start time on every Linux architecture we run on. */
    private static final long TICKS_PER_SECOND = 100;

    private ReadyStamp() {}

    static void write() {
        try {
            long uptimeMs = Math.round(Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]) * 1000);
            String stat = Files.readString(Path.of("/proc/self/stat"));
            // fields after the command name (which may hold spaces): state is field 3, starttime field 22
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long startMs = Long.parseLong(f[19]) * 1000 / TICKS_PER_SECOND;
            Files.createDirectories(FILE.getParent());
            Files.writeString(FILE, "boot_to_ready_ms " + uptimeMs + "\njvm_start_to_ready_ms " + (uptimeMs - startMs) + "\n");
        } catch (IOException | RuntimeException e) {
            Log.info("could not record the ready time: " + e.getMessage());
        }
    }
}

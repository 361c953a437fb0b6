package dev.bhatti.sdk;

import java.time.Instant;
import java.util.List;

/**
 * What the daemon says about a sandbox.
 *
 * @param status     starting, running, stopped or error ({@code detail} says why)
 * @param thermal    hot (running), warm (paused in memory), cold (on disk), or empty when it has no VM to resume
 * @param ip         its address on the host's sandbox network; null (as {@code egress} and {@code allowHosts})
 *                   when the host has none
 * @param diskBytes  what its files take on disk: from {@code get} only, else null
 * @param warnings   from create only: e.g. a size below what its image recommends
 */
public record SandboxInfo(String id, String name, String status, String thermal, String detail, int cpus, int memoryMb,
                          String image, String engine, String accelerator, String ip, String egress, List<String> allowHosts,
                          boolean keepHot, Long diskBytes, Instant createdAt, List<VolumeMount> volumes, List<String> warnings) {
    public SandboxInfo {
        allowHosts = allowHosts == null ? null : List.copyOf(allowHosts);
        volumes = volumes == null ? List.of() : List.copyOf(volumes);
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
    }

    /** Whether it is running now (hot or warm). */
    public boolean running() { return "running".equals(status); }
}

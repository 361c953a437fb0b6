package dev.bhatti.server.sandbox;

import dev.bhatti.server.store.SandboxRecord;
import dev.bhatti.server.net.SandboxNetwork;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The JSON shape of a sandbox in API responses. {@code thermal} is hot, warm or cold (empty when the
 * sandbox has no VM to resume); {@code diskBytes} is what its files take on disk, in inspect only.
 * {@code labels} are the user's key=value tags. {@code ip}, {@code egress} and {@code allowHosts} are null when the host has no sandbox networking.
 */
public record SandboxView(String id, String name, String status, String thermal, String detail, int cpus, int memoryMb,
                          String image, String engine, String accelerator, String ip, String egress,
                          List<String> allowHosts, boolean keepHot, Long diskBytes, String createdAt, List<Volume> volumes,
                          Map<String, String> labels) {

    /** A volume attached to the sandbox. */
    public record Volume(String name, String mount, boolean readOnly) {}

    public static SandboxView of(SandboxRecord r, String thermal, Optional<SandboxNetwork.View> net) {
        return new SandboxView(r.id(), r.name(), r.status().wire(), thermal, r.detail(), r.cpus(), r.memoryMb(), r.image(), r.engine(),
                r.accelerator(), net.map(n -> n.ip()).orElse(null), net.map(n -> n.egress()).orElse(null),
                net.map(n -> n.allowHosts()).orElse(null), r.keepHot(), null, r.createdAt().toString(), List.of(), Map.of());
    }

    public SandboxView withDiskBytes(long bytes) {
        return new SandboxView(id, name, status, thermal, detail, cpus, memoryMb, image, engine, accelerator, ip, egress, allowHosts,
                keepHot, bytes, createdAt, volumes, labels);
    }

    public SandboxView withLabels(Map<String, String> labels) {
        return new SandboxView(id, name, status, thermal, detail, cpus, memoryMb, image, engine, accelerator, ip, egress, allowHosts,
                keepHot, diskBytes, createdAt, volumes, java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(labels)));
    }

    public SandboxView withVolumes(List<Volume> volumes) {
        return new SandboxView(id, name, status, thermal, detail, cpus, memoryMb, image, engine, accelerator, ip, egress, allowHosts,
                keepHot, diskBytes, createdAt, List.copyOf(volumes), labels);
    }
}

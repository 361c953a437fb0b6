package dev.bhatti.engine.qemu;

import dev.bhatti.engine.GuestNet;
import dev.bhatti.engine.VmSpec;
import dev.bhatti.engine.VolumeDisk;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** A VM's {@link VmSpec} on disk beside it: a restore must rebuild exactly the same QEMU command line. */
final class SpecFile {
    private SpecFile() {}

    static void write(Path file, VmSpec spec) throws IOException {
        var p = new Properties();
        p.setProperty("id", spec.id());
        p.setProperty("hostname", spec.hostname());
        p.setProperty("cpus", Integer.toString(spec.cpus()));
        p.setProperty("memory_mb", Integer.toString(spec.memoryMb()));
        p.setProperty("tier", spec.tier());
        if (spec.rootfs() != null) p.setProperty("rootfs", spec.rootfs().toString());
        if (spec.tools() != null) p.setProperty("tools", spec.tools().toString());
        if (spec.balloon()) p.setProperty("balloon", "true");
        if (spec.memoryFile()) p.setProperty("memory_file", "true");
        if (spec.net() != null) {
            p.setProperty("net.tap", spec.net().tap());
            p.setProperty("net.mac", spec.net().mac());
            p.setProperty("net.address", spec.net().address());
            p.setProperty("net.gateway", spec.net().gateway());
        }
        for (int i = 0; i < spec.volumes().size(); i++) {
            VolumeDisk v = spec.volumes().get(i);
            p.setProperty("volume." + i + ".file", v.file().toString());
            p.setProperty("volume." + i + ".mount", v.mount());
            p.setProperty("volume." + i + ".read_only", Boolean.toString(v.readOnly()));
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            p.store(w, "bhatti vm");
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static VmSpec read(Path file) throws IOException {
        var p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        try {
            GuestNet net = p.getProperty("net.tap") == null ? null : new GuestNet(p.getProperty("net.tap"),
                    p.getProperty("net.mac"), p.getProperty("net.address"), p.getProperty("net.gateway"));
            return new VmSpec(p.getProperty("id"), p.getProperty("hostname"), Integer.parseInt(p.getProperty("cpus")),
                    Integer.parseInt(p.getProperty("memory_mb")), p.getProperty("tier"), net,
                    p.getProperty("rootfs") == null ? null : Path.of(p.getProperty("rootfs")),
                    p.getProperty("tools") == null ? null : Path.of(p.getProperty("tools")), 0, volumes(p),
                    Boolean.parseBoolean(p.getProperty("balloon", "false")), Boolean.parseBoolean(p.getProperty("memory_file", "false")));
        } catch (RuntimeException e) {
            throw new IOException("unreadable " + file + ": " + e.getMessage(), e);
        }
    }

    private static List<VolumeDisk> volumes(Properties p) {
        var volumes = new ArrayList<VolumeDisk>();
        for (int i = 0; p.getProperty("volume." + i + ".file") != null; i++) {
            volumes.add(new VolumeDisk(Path.of(p.getProperty("volume." + i + ".file")), p.getProperty("volume." + i + ".mount"),
                    Boolean.parseBoolean(p.getProperty("volume." + i + ".read_only"))));
        }
        return volumes;
    }
}

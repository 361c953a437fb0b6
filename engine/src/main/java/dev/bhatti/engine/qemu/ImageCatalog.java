package dev.bhatti.engine.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.regex.Matcher;

/**
 * The boot files in {@code <data>/images}: {@code vmlinuz-<arch>}, {@code initramfs-<arch>.img} and one
 * {@code rootfs-<tier>-<arch>.ext4} per tier. Tiers are whatever root images are there; nothing is
 * hard-coded.
 */
public final class ImageCatalog {

    private final Path dir;
    private final String arch;
    private final Pattern rootfsName;

    public ImageCatalog(Path dir, String arch) {
        this.dir = dir;
        this.arch = arch;
        this.rootfsName = Pattern.compile("rootfs-([a-z0-9][a-z0-9_-]*)-" + Pattern.quote(arch) + "\\.ext4");
    }

    public ImageCatalog(Path dir) { this(dir, HostCpu.debianArch()); }

    public Path kernel() { return dir.resolve("vmlinuz-" + arch); }

    public Path initramfs() { return dir.resolve("initramfs-" + arch + ".img"); }

    /** The agent, its runtime and C library, mounted on /opt/bhatti in VMs of images that are not tiers. */
    public Path tools() { return dir.resolve("tools-" + arch + ".ext4"); }

    public Path rootfs(String tier) { return dir.resolve("rootfs-" + tier + "-" + arch + ".ext4"); }

    public List<String> tiers() {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> rootfsName.matcher(p.getFileName().toString()))
                    .filter(Matcher::matches)
                    .map(m -> m.group(1))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }
}

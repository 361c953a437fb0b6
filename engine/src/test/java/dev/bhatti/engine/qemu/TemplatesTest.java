package dev.bhatti.engine.qemu;

import dev.bhatti.engine.GuestNet;
import dev.bhatti.engine.VmSpec;
import dev.bhatti.engine.VolumeDisk;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Which VMs share a booted template: everything their memory depends on, and nothing of their own. */
class TemplatesTest {

    @TempDir Path dir;
    private Path images;
    private Path qemu;
    private Templates templates;

    @BeforeEach
    void setUp() throws Exception {
        images = Files.createDirectory(dir.resolve("images"));
        for (String f : List.of("vmlinuz-amd64", "initramfs-amd64.img", "rootfs-minimal-amd64.ext4", "rootfs-browser-amd64.ext4")) {
            Files.writeString(images.resolve(f), f);
        }
        qemu = Files.writeString(dir.resolve("qemu-system-x86_64"), "qemu");
        templates = newTemplates(1_000);
    }

    private Templates newTemplates(long tscKhz) {
        return new Templates(dir.resolve("templates"), Jailer.forHost(JailConfig.enabled(false), dir.resolve("sandboxes")),
                new QemuCommand(qemu.toString(), Accelerator.TCG, tscKhz), new ImageCatalog(images, "amd64"), qemu.toString());
    }

    private static VmSpec spec(String id, String name, int cpus, int memory, String tier, GuestNet net) {
        return new VmSpec(id, name, cpus, memory, tier, net);
    }

    private static GuestNet net(String tap, String mac, String address) {
        return new GuestNet(tap, mac, address, "10.200.1.1");
    }

    @Test
    void vmsThatDifferOnlyInTheirIdentityShareATemplate() {
        var a = templates.idFor(spec("aaaa", "alpha", 1, 512, "minimal", net("bt1", "02:00:00:00:00:0a", "10.200.1.2/24")));
        var b = templates.idFor(spec("bbbb", "beta", 1, 512, "minimal", net("bt2", "02:00:00:00:00:0b", "10.200.7.9/24")));
        assertThat(a).isPresent().isEqualTo(b);
        assertThat(a.get()).matches("[0-9a-f]{32}");
    }

    @Test
    void whatTheMemoryDependsOnGivesAnotherTemplate() throws Exception {
        var base = templates.idFor(spec("aaaa", "alpha", 1, 512, "minimal", null)).orElseThrow();
        assertThat(templates.idFor(spec("aaaa", "alpha", 2, 512, "minimal", null))).get().isNotEqualTo(base);
        assertThat(templates.idFor(spec("aaaa", "alpha", 1, 1024, "minimal", null))).get().isNotEqualTo(base);
        assertThat(templates.idFor(spec("aaaa", "alpha", 1, 512, "browser", null))).get().isNotEqualTo(base);
        assertThat(templates.idFor(spec("aaaa", "alpha", 1, 512, "minimal", null).withDiskMb(4096))).get().isNotEqualTo(base);
        assertThat(templates.idFor(spec("aaaa", "alpha", 1, 512, "minimal", net("bt1", "02:00:00:00:00:0a", "10.200.1.2/24"))))
                .as("a NIC is part of the device state").get().isNotEqualTo(base);
        assertThat(newTemplates(2_000).idFor(spec("aaaa", "alpha", 1, 512, "minimal", null))).as("the kernel command line")
                .get().isNotEqualTo(base);

        // a rebuilt image (a new file under the same name, as a tier build renames it into place), kernel or QEMU
        Path rootfs = images.resolve("rootfs-minimal-amd64.ext4");
        Path rebuilt = Files.writeString(images.resolve("rebuilt"), "minimal, with a new agent");
        Files.move(rebuilt, rootfs, StandardCopyOption.REPLACE_EXISTING);
        String afterRebuild = templates.idFor(spec("aaaa", "alpha", 1, 512, "minimal", null)).orElseThrow();
        assertThat(afterRebuild).isNotEqualTo(base);
        Files.move(Files.writeString(images.resolve("k"), "new kernel"), images.resolve("vmlinuz-amd64"), StandardCopyOption.REPLACE_EXISTING);
        String afterKernel = templates.idFor(spec("aaaa", "alpha", 1, 512, "minimal", null)).orElseThrow();
        assertThat(afterKernel).isNotEqualTo(afterRebuild);
        Files.move(Files.writeString(dir.resolve("q"), "new qemu"), qemu, StandardCopyOption.REPLACE_EXISTING);
        assertThat(templates.idFor(spec("aaaa", "alpha", 1, 512, "minimal", null))).get().isNotEqualTo(afterKernel);
    }

    @Test
    void vmsWithVolumesOrAMissingImageHaveNone() {
        var withVolume = spec("aaaa", "alpha", 1, 512, "minimal", null)
                .withVolumes(List.of(new VolumeDisk(dir.resolve("v.raw"), "/data", false)));
        assertThat(templates.idFor(withVolume)).isEmpty();
        assertThat(templates.idFor(spec("aaaa", "alpha", 1, 512, "nosuchtier", null))).isEmpty();
    }

    @Test
    void aTemplateIsFoundOnlyWhenCompleteAndOneCaptureAtATime() throws Exception {
        var spec = spec("aaaa", "alpha", 1, 512, "minimal", null);
        String id = templates.idFor(spec).orElseThrow();
        assertThat(templates.find(id)).isEmpty();
        assertThat(templates.claim(id, spec)).isTrue();
        assertThat(templates.claim(id, spec)).as("a second create boots as usual").isFalse();
        templates.release(id);
        assertThat(templates.claim(id, spec)).isTrue();
        templates.release(id);
        long free = Files.getFileStore(dir).getUsableSpace();
        var huge = spec("aaaa", "alpha", 1, (int) Math.min(Integer.MAX_VALUE, (free >> 20) + 1), "minimal", null);
        assertThat(templates.claim(templates.idFor(huge).orElseThrow(), huge)).as("never the last of the disk").isFalse();

        Path t = Files.createDirectories(dir.resolve("templates").resolve(id));
        Files.writeString(SnapshotStore.disk(t), "layer");
        assertThat(templates.find(id)).as("no memory yet").isEmpty();
        Files.writeString(new SnapshotFiles(t).memory(), "memory");
        assertThat(templates.find(id)).contains(t);
        assertThat(templates.claim(id, spec)).as("there is one").isFalse();
        templates.discard(id);
        assertThat(t).doesNotExist();
    }
}

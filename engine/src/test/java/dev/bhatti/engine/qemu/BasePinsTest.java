package dev.bhatti.engine.qemu;

import dev.bhatti.engine.VmSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Pins of deleted base files go once no disk layer or spec names them; live ones and used ones stay. */
class BasePinsTest {
    @TempDir Path dir;

    static Path file(Path p) throws Exception {
        Files.createDirectories(p.getParent());
        try (var f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(4 << 20);
        }
        return p;
    }

    static void layer(Path backing, Path disk) throws Exception {
        Files.createDirectories(disk.getParent());
        Process p = new ProcessBuilder("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", backing.toString(), disk.toString())
                .redirectErrorStream(true).start();
        assertThat(p.waitFor()).as(new String(p.getInputStream().readAllBytes())).isZero();
    }

    @Test
    void aDeletedImagesPinGoesWithItsLastUserAndALiveImagesPinStays() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path gone = file(images.resolve("users/gone.ext4"));
        Path kept = file(images.resolve("users/kept.ext4"));
        Path tools = file(images.resolve("tools-amd64.ext4"));
        Path gonePin = HostFiles.pinned(gone);
        Path keptPin = HostFiles.pinned(kept);
        Path toolsPin = HostFiles.pinned(tools);
        Path vm = dir.resolve("sandboxes/vm1");
        layer(gonePin, new VmPaths(vm).disk());
        SpecFile.write(new VmPaths(vm).spec(), new VmSpec("vm1", "vm1", 1, 256, "gone").withImage(gonePin, toolsPin));
        assertThat(BasePins.backing(new VmPaths(vm).disk())).contains(gonePin);

        Files.delete(gone);
        Files.delete(tools); // a rebuild replaced it
        assertThat(BasePins.prune(images, List.of(vm))).as("the VM still boots from both").isZero();
        assertThat(gonePin).exists();
        assertThat(toolsPin).exists();

        HostFiles.deleteTree(vm);
        assertThat(BasePins.prune(images, List.of())).isEqualTo(2);
        assertThat(gonePin).doesNotExist();
        assertThat(toolsPin).doesNotExist();
        assertThat(keptPin).as("its image is still there").exists();
        assertThat(kept).exists();
    }

    @Test
    void anImagesDirectorySharedThroughALinkIsLeftAlone() throws Exception {
        Path shared = Files.createDirectories(dir.resolve("shared-images"));
        Path gonePin = HostFiles.pinned(file(shared.resolve("rootfs-minimal-amd64.ext4")));
        Files.delete(shared.resolve("rootfs-minimal-amd64.ext4"));
        Path link = Files.createSymbolicLink(dir.resolve("images"), shared);
        assertThat(BasePins.prune(link, List.of())).as("another daemon's VMs may use it").isZero();
        assertThat(gonePin).exists();
        assertThat(BasePins.prune(shared, List.of())).isEqualTo(1);
    }

    @Test
    void aPinInUseIsKeptWhenItsDirectoryIsReachedThroughALink() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        Files.createSymbolicLink(images.resolve("users"), elsewhere);
        Path image = file(images.resolve("users/img.ext4"));
        Path pin = HostFiles.pinned(image); // named by its real path, under elsewhere/
        Path vm = dir.resolve("sandboxes/vm1");
        layer(pin, new VmPaths(vm).disk());
        Files.delete(image);
        assertThat(BasePins.prune(images, List.of(vm))).isZero();
        assertThat(pin).exists();
    }

    @Test
    void aFileThatIsNoQcow2LayerNamesNoBacking() throws Exception {
        assertThat(BasePins.backing(file(dir.resolve("raw.img")))).isEmpty();
        assertThat(BasePins.backing(dir.resolve("missing.qcow2"))).isEmpty();
    }
}

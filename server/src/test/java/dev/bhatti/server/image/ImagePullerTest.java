package dev.bhatti.server.image;

import dev.bhatti.server.image.registry.Descriptor;
import dev.bhatti.server.image.registry.ImageReference;
import dev.bhatti.server.image.registry.RegistryClient;
import dev.bhatti.server.testing.DemoRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** A pull from the real registry of {@link DemoRegistry} to an ext4 root filesystem. */
@ExtendWith(DemoRegistry.Extension.class)
class ImagePullerTest {
    @TempDir Path work;

    @Test
    void anImageBecomesARootFilesystemAndASecondPullDownloadsNothing(DemoRegistry demo) throws Exception {
        var client = RegistryClient.create(RegistryClient.Credentials.ANONYMOUS);
        var ref = ImageReference.parse(demo.reference(DemoRegistry.IMAGE));
        var puller = new ImagePuller(work.resolve("blobs"), work.resolve("work"));
        var phases = new ArrayList<String>();
        var progress = new ImagePuller.Progress() {
            long downloaded;
            @Override public void layer(int index, Descriptor layer, long done) { downloaded = done; }
            @Override public void phase(String what) { phases.add(what); }
        };
        var pulled = puller.pull(client, ref, RegistryClient.Platform.HOST, work.resolve("rootfs.ext4"), progress);

        assertThat(pulled.config().env()).containsEntry("GREETING", "hi");
        assertThat(pulled.config().workingDir()).isEqualTo("/srv");
        Process p = new ProcessBuilder("debugfs", "-R", "cat /etc/os-release", pulled.rootfs().toString()).start();
        assertThat(new String(p.getInputStream().readAllBytes())).contains("ID=test");
        assertThat(phases).anyMatch(s -> s.startsWith("unpacking"));
        try (var left = Files.list(work.resolve("work"))) {
            assertThat(left).as("the extracted tree is gone").isEmpty();
        }

        long cached;
        try (var blobs = Files.list(work.resolve("blobs"))) {
            cached = blobs.count();
        }
        puller.pull(client, ref, RegistryClient.Platform.HOST, work.resolve("again.ext4"), progress);
        try (var blobs = Files.list(work.resolve("blobs"))) {
            assertThat(blobs.count()).as("the second pull reuses the cached blobs").isEqualTo(cached);
        }
    }
}

package dev.bhatti.server.image.registry;

import dev.bhatti.server.image.registry.RegistryClient.Credentials;
import dev.bhatti.server.image.registry.RegistryClient.Platform;
import dev.bhatti.server.testing.DemoRegistry;
import dev.bhatti.testkit.OciImage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Pulls from a real anonymous registry (Debian's docker-registry on loopback), the images pushed with skopeo. */
@ExtendWith(DemoRegistry.Extension.class)
class RegistryClientTest {
    static DemoRegistry demo;
    @TempDir Path dir;

    @BeforeAll
    static void registry(DemoRegistry shared) {
        demo = shared;
    }

    static ImageReference ref(String name) { return ImageReference.parse(demo.reference(name)); }

    static String digest(Path file) throws Exception { return "sha256:" + RegistryClient.sha256(Files.readAllBytes(file)); }

    @Test
    void anImagesManifestConfigAndLayersArePulledAndChecked() throws Exception {
        var client = RegistryClient.create(Credentials.ANONYMOUS);
        var ref = ref(DemoRegistry.IMAGE);
        Manifest m = client.manifest(ref, Platform.HOST);
        assertThat(m.layers()).hasSize(1);
        var progress = new ArrayList<Long>();
        Path target = dir.resolve("layer.tgz");
        client.blob(ref, m.layers().getFirst(), target, progress::add);
        assertThat(Files.readAllBytes(target)).isEqualTo(demo.layer());
        assertThat(progress.getLast()).isEqualTo(demo.layer().length);
        var config = client.config(ref, m, dir.resolve("config.json"));
        assertThat(config.path("config").path("WorkingDir").asString()).isEqualTo("/srv");
        assertThat(client.manifest(ImageReference.parse(demo.reference("demo/tool@" + m.digest())), Platform.HOST))
                .as("pulled by digest").isEqualTo(m);
        assertThat(client.cachedAuthorization(ref)).as("an anonymous registry is asked nothing").isEmpty();
    }

    @Test
    void aBlobWhoseDigestDiffersIsRefusedAndLeavesNothing() throws Exception {
        var client = RegistryClient.create(Credentials.ANONYMOUS);
        var ref = ref(DemoRegistry.IMAGE);
        Manifest m = client.manifest(ref, Platform.HOST);
        var real = m.layers().getFirst();
        // the registry serves the real blob for the real digest; claim a smaller size: it is refused as it grows past it
        var lying = new Descriptor(real.mediaType(), real.digest(), real.size() - 1);
        Path target = dir.resolve("lying.tgz");
        assertThatThrownBy(() -> client.blob(ref, lying, target, done -> { }))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.kind()).isEqualTo(RegistryException.Kind.INVALID));
        assertThat(target).doesNotExist();
        assertThat(target.resolveSibling("lying.tgz.part")).as("no partial file to resume from").doesNotExist();
    }

    @Test
    void anUnknownRepositoryTagOrBlobIsNotFound() {
        var client = RegistryClient.create(Credentials.ANONYMOUS);
        for (String name : List.of("demo/tool:nope", "demo/none:1")) {
            assertThatThrownBy(() -> client.manifest(ref(name), Platform.HOST)).as(name)
                    .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.kind()).isEqualTo(RegistryException.Kind.NOT_FOUND))
                    .hasMessageContaining("not found");
        }
        var missing = new Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", "sha256:" + "0".repeat(64), 1);
        assertThatThrownBy(() -> client.blob(ref(DemoRegistry.IMAGE), missing, dir.resolve("missing"), done -> { }))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.kind()).isEqualTo(RegistryException.Kind.NOT_FOUND))
                .hasMessageContaining("has no blob " + missing.digest());
    }

    @Test
    void anIndexIsResolvedToThePlatformAskedFor() throws Exception {
        Path amd64Layer = OciImage.gzip("amd64 layer".getBytes(), dir.resolve("amd64.gz"));
        Path arm64Layer = OciImage.gzip("arm64 layer".getBytes(), dir.resolve("arm64.gz"));
        demo.registry().push(OciImage.index(dir.resolve("index"), List.of(
                OciImage.layout(dir.resolve("amd64"), "amd64", "{}", List.of(amd64Layer)),
                OciImage.layout(dir.resolve("arm64"), "arm64", "{}", List.of(arm64Layer)))), "demo/multi:1");
        var client = RegistryClient.create(Credentials.ANONYMOUS);
        var ref = ref("demo/multi:1");

        Manifest amd = client.manifest(ref, new Platform("linux", "amd64", ""));
        assertThat(amd.layers()).extracting(Descriptor::digest).containsExactly(digest(amd64Layer));
        assertThat(client.config(ref, amd, dir.resolve("amd64.json")).path("architecture").asString()).isEqualTo("amd64");
        Manifest arm = client.manifest(ref, new Platform("linux", "arm64", ""));
        assertThat(arm.layers()).extracting(Descriptor::digest).containsExactly(digest(arm64Layer));
        assertThat(client.manifest(ref, Platform.HOST)).as("the host's, " + Platform.HOST)
                .isEqualTo(Platform.HOST.architecture().equals("arm64") ? arm : amd);

        assertThatThrownBy(() -> client.manifest(ref, new Platform("linux", "riscv64", "")))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.kind()).isEqualTo(RegistryException.Kind.NOT_FOUND))
                .hasMessageContaining("linux/riscv64").hasMessageContaining("linux/amd64, linux/arm64");
    }
}

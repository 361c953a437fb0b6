package dev.bhatti.server.image.registry;

import dev.bhatti.server.testing.LocalRegistry;
import dev.bhatti.server.testing.OciImage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Pulls from a real registry (Debian's docker-registry on loopback), the image pushed with skopeo. */
public class RegistryClientTest {
    @TempDir protected static Path dir;
    protected static LocalRegistry registry;
    static byte[] layer;

    @BeforeAll
    static void start() throws Exception {
        registry = new LocalRegistry(dir);
        Path tree = Files.createDirectories(dir.resolve("tree/etc"));
        Files.writeString(tree.resolve("os-release"), "ID=test\n");
        var tar = new ByteArrayOutputStream();
        Process p = new ProcessBuilder("tar", "-C", dir.resolve("tree").toString(), "-cf", "-", "etc").start();
        try (var gz = new GZIPOutputStream(tar)) {
            p.getInputStream().transferTo(gz);
        }
        assertThat(p.waitFor()).isZero();
        layer = tar.toByteArray();
        registry.push(ociLayout(dir.resolve("oci"), layer), "demo/tool:1");
    }

    @AfterAll
    static void stop() {
        if (registry != null) registry.close();
    }

    /** A one-layer image in an OCI layout, as skopeo reads it. */
    static Path ociLayout(Path out, byte[] layer) throws Exception {
        Path file = Files.write(Files.createDirectories(out.resolveSibling(out.getFileName() + "-layers")).resolve("layer.tar.gz"), layer);
        return OciImage.layout(out, "{\"Env\":[\"PATH=/usr/bin:/bin\",\"GREETING=hi\"],\"WorkingDir\":\"/srv\"}", List.of(file));
    }

    static ImageReference ref(String name) { return ImageReference.parse("127.0.0.1:" + registry.port + "/" + name); }

    @Test
    void anImagesManifestConfigAndLayersArePulledAndChecked() throws Exception {
        var client = RegistryClient.create(RegistryClient.Credentials.ANONYMOUS);
        var ref = ref("demo/tool:1");
        Manifest m = client.manifest(ref, RegistryClient.Platform.HOST);
        assertThat(m.layers()).hasSize(1);
        var progress = new ArrayList<Long>();
        Path target = dir.resolve("layer.tgz");
        client.blob(ref, m.layers().getFirst(), target, progress::add);
        assertThat(Files.readAllBytes(target)).isEqualTo(layer);
        assertThat(progress.getLast()).isEqualTo(layer.length);
        var config = client.config(ref, m, dir.resolve("config.json"));
        assertThat(config.path("config").path("WorkingDir").asString()).isEqualTo("/srv");
        assertThat(client.manifest(ImageReference.parse("127.0.0.1:" + registry.port + "/demo/tool@" + m.digest()), RegistryClient.Platform.HOST))
                .as("pulled by digest").isEqualTo(m);
    }

    @Test
    void aBlobWhoseDigestDiffersIsRefusedAndLeavesNothing() throws Exception {
        var client = RegistryClient.create(RegistryClient.Credentials.ANONYMOUS);
        var ref = ref("demo/tool:1");
        Manifest m = client.manifest(ref, RegistryClient.Platform.HOST);
        var real = m.layers().getFirst();
        // the registry serves the real blob for the real digest; claim a smaller size: it is refused as it grows past it
        var lying = new Descriptor(real.mediaType(), real.digest(), real.size() - 1);
        Path target = dir.resolve("lying.tgz");
        assertThatThrownBy(() -> client.blob(ref, lying, target, done -> { }))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.kind()).isEqualTo(RegistryException.Kind.INVALID));
        assertThat(target).doesNotExist();
    }

    @Test
    void anUnknownRepositoryOrTagIsNotFound() {
        var client = RegistryClient.create(RegistryClient.Credentials.ANONYMOUS);
        for (String name : List.of("demo/tool:nope", "demo/none:1")) {
            assertThatThrownBy(() -> client.manifest(ref(name), RegistryClient.Platform.HOST)).as(name)
                    .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.kind()).isEqualTo(RegistryException.Kind.NOT_FOUND))
                    .hasMessageContaining("not found");
        }
    }
}

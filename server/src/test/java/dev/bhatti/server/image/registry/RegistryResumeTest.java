package dev.bhatti.server.image.registry;

import dev.bhatti.server.image.registry.RegistryClient.Credentials;
import dev.bhatti.server.image.registry.RegistryClient.Platform;
import dev.bhatti.server.testing.DemoRegistry;
import dev.bhatti.testkit.OciImage;
import dev.bhatti.server.testing.TcpProxy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A layer download that breaks off keeps what it got, and the next one asks only for the rest. */
@ExtendWith(DemoRegistry.Extension.class)
class RegistryResumeTest {
    static final int SIZE = 2 << 20;
    @TempDir static Path images;
    @TempDir Path dir;
    static DemoRegistry demo;
    static byte[] layer;
    static Descriptor descriptor;

    @BeforeAll
    static void pushABigLayer(DemoRegistry shared) throws Exception {
        demo = shared;
        byte[] noise = new byte[SIZE];
        new Random(16).nextBytes(noise); // incompressible, so the gzip layer is as big
        Path file = OciImage.gzip(noise, images.resolve("big.gz"));
        layer = Files.readAllBytes(file);
        demo.registry().push(OciImage.layout(images.resolve("oci"), "{}", List.of(file)), "demo/big:1");
        descriptor = RegistryClient.create(Credentials.ANONYMOUS).manifest(ImageReference.parse(demo.reference("demo/big:1")), Platform.HOST)
                .layers().getFirst();
    }

    @Test
    void aDroppedConnectionLeavesThePartAndTheNextPullAsksForTheRest() throws Exception {
        try (var proxy = new TcpProxy(demo.registry().port)) {
            var ref = ImageReference.parse("127.0.0.1:" + proxy.port() + "/demo/big:1");
            var client = RegistryClient.create(Credentials.ANONYMOUS);
            Path target = dir.resolve("big.gz");
            Path part = dir.resolve("big.gz.part");

            proxy.cutAfter(SIZE / 3);
            assertThatThrownBy(() -> client.blob(ref, descriptor, target, done -> { }))
                    .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.kind()).isEqualTo(RegistryException.Kind.FAILED))
                    .hasMessageContaining("broke off").hasMessageContaining("pulling again resumes it");
            assertThat(target).doesNotExist();
            long kept = Files.size(part);
            assertThat(kept).as("what arrived is kept").isPositive().isLessThan(layer.length);

            proxy.cutAfter(-1);
            long before = proxy.received();
            client.blob(ref, descriptor, target, done -> { });
            assertThat(Files.readAllBytes(target)).isEqualTo(layer);
            assertThat(part).doesNotExist();
            assertThat(proxy.sent()).containsIgnoringCase("range: bytes=" + kept + "-");
            assertThat(proxy.received() - before).as("only the rest came").isLessThan(layer.length - kept + 4096);
        }
    }

    @Test
    void aCompletePartIsCheckedAndKeptWithoutAskingTheRegistry() throws Exception {
        try (var proxy = new TcpProxy(demo.registry().port)) {
            var ref = ImageReference.parse("127.0.0.1:" + proxy.port() + "/demo/big:1");
            Path target = dir.resolve("big.gz");
            Files.write(dir.resolve("big.gz.part"), layer); // a pull that stopped after the last byte, before the rename
            RegistryClient.create(Credentials.ANONYMOUS).blob(ref, descriptor, target, done -> { });
            assertThat(Files.readAllBytes(target)).isEqualTo(layer);
            assertThat(proxy.sent()).isEmpty();
        }
    }
}

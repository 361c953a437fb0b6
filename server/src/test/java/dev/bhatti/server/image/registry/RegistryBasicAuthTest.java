package dev.bhatti.server.image.registry;

import dev.bhatti.server.image.registry.RegistryClient.Credentials;
import dev.bhatti.server.image.registry.RegistryClient.Platform;
import dev.bhatti.testkit.LocalRegistry;
import dev.bhatti.testkit.OciImage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A registry behind an htpasswd file: basic credentials on every request, over plain HTTP on loopback. */
class RegistryBasicAuthTest {
    @TempDir static Path dir;
    static LocalRegistry registry;
    static Path layer;

    @BeforeAll
    static void start() throws Exception {
        registry = LocalRegistry.withHtpasswd(dir, "alice", "s3cret");
        layer = OciImage.gzip("private layer".getBytes(), dir.resolve("layer.gz"));
        registry.push(OciImage.layout(dir.resolve("oci"), "{}", List.of(layer)), "private/app:1");
    }

    @AfterAll
    static void stop() {
        if (registry != null) registry.close();
    }

    static ImageReference ref() { return ImageReference.parse(registry.reference("private/app:1")); }

    @Test
    void theRightCredentialsPull() throws Exception {
        var client = RegistryClient.create(new Credentials("alice", "s3cret"));
        Manifest m = client.manifest(ref(), Platform.HOST);
        Path target = dir.resolve("pulled.gz");
        client.blob(ref(), m.layers().getFirst(), target, done -> { });
        assertThat(Files.readAllBytes(target)).isEqualTo(Files.readAllBytes(layer));
        assertThat(client.cachedAuthorization(ref())).hasValueSatisfying(a -> assertThat(a).startsWith("Basic "));
    }

    @Test
    void wrongCredentialsAreRefusedClearly() {
        var client = RegistryClient.create(new Credentials("alice", "wrong"));
        assertThatThrownBy(() -> client.manifest(ref(), Platform.HOST))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.kind()).isEqualTo(RegistryException.Kind.UNAUTHORIZED))
                .hasMessage("registry 127.0.0.1:%d refused the credentials (401) for private/app: check --auth USER:TOKEN", registry.port);
    }

    @Test
    void noCredentialsSayAuthenticationIsRequired() {
        var client = RegistryClient.create(Credentials.ANONYMOUS);
        assertThatThrownBy(() -> client.manifest(ref(), Platform.HOST))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.kind()).isEqualTo(RegistryException.Kind.UNAUTHORIZED))
                .hasMessage("registry 127.0.0.1:%d requires authentication for private/app: give credentials with --auth USER:TOKEN",
                        registry.port);
    }
}

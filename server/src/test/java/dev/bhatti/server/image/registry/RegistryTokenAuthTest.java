package dev.bhatti.server.image.registry;

import dev.bhatti.server.image.registry.RegistryClient.Credentials;
import dev.bhatti.server.image.registry.RegistryClient.Platform;
import dev.bhatti.testkit.LocalRegistry;
import dev.bhatti.testkit.OciImage;
import dev.bhatti.testkit.TokenServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A registry behind a token service, as Docker Hub and ghcr.io are: its 401 names a realm, the client
 * trades its credentials there for a JWT scoped to the repository and pulls with that.
 */
class RegistryTokenAuthTest {
    @TempDir static Path dir;
    static TokenServer tokens;
    static LocalRegistry registry;
    static Path layer;

    @BeforeAll
    static void start() throws Exception {
        tokens = new TokenServer("test-registry", "test-issuer", "bob", "t0ken");
        registry = LocalRegistry.withTokenAuth(dir, tokens);
        layer = OciImage.gzip("token-guarded layer".getBytes(), dir.resolve("layer.gz"));
        registry.push(OciImage.layout(dir.resolve("oci"), "{\"Env\":[\"A=b\"]}", List.of(layer)), "team/app:1");
    }

    @AfterAll
    static void stop() {
        if (registry != null) registry.close();
        if (tokens != null) tokens.close();
    }

    static ImageReference ref() { return ImageReference.parse(registry.reference("team/app:1")); }

    @Test
    void theRightCredentialsBuyATokenThatIsReused() throws Exception {
        var client = RegistryClient.create(new Credentials("bob", "t0ken"));
        int before = tokens.requests().size();
        Manifest m = client.manifest(ref(), Platform.HOST);
        assertThat(client.config(ref(), m, dir.resolve("config.json")).path("config").path("Env").get(0).asString()).isEqualTo("A=b");
        Path target = dir.resolve("pulled.gz");
        client.blob(ref(), m.layers().getFirst(), target, done -> { });
        assertThat(Files.readAllBytes(target)).isEqualTo(Files.readAllBytes(layer));

        assertThat(tokens.requests().subList(before, tokens.requests().size())).as("one token for the manifest, config and layer")
                .containsExactly(new TokenServer.Request("bob", List.of("repository:team/app:pull"), 200));
        assertThat(client.cachedAuthorization(ref())).hasValueSatisfying(a -> assertThat(a).startsWith("Bearer "));
    }

    @Test
    void wrongCredentialsAreRefusedClearly() {
        var client = RegistryClient.create(new Credentials("bob", "wrong"));
        assertThatThrownBy(() -> client.manifest(ref(), Platform.HOST))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.kind()).isEqualTo(RegistryException.Kind.UNAUTHORIZED))
                .hasMessage("registry 127.0.0.1:%d refused the credentials (401) for team/app: check --auth USER:TOKEN", registry.port);
    }

    @Test
    void noCredentialsSayAuthenticationIsRequired() {
        var client = RegistryClient.create(Credentials.ANONYMOUS);
        assertThatThrownBy(() -> client.manifest(ref(), Platform.HOST))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.kind()).isEqualTo(RegistryException.Kind.UNAUTHORIZED))
                .hasMessage("registry 127.0.0.1:%d requires authentication for team/app: give credentials with --auth USER:TOKEN",
                        registry.port);
    }
}

package dev.bhatti.server.image;

import dev.bhatti.server.task.Tasks;
import dev.bhatti.server.auth.UserAdmin;
import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.image.registry.RegistryClient;
import dev.bhatti.server.store.SqliteStore;
import dev.bhatti.server.testing.DemoRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Pulls as tasks into a user's images, against the real registry of {@link DemoRegistry}. */
@ExtendWith(DemoRegistry.Extension.class)
class ImageServiceTest {
    @TempDir Path dir;

    @Test
    void aPullIsATaskThatEndsAsTheUsersImage(DemoRegistry demo) throws Exception {
        try (var store = SqliteStore.open(dir.resolve("images.db"))) {
            var alice = new UserAdmin(store).create("alice", new UserAdmin.Quota(1, 1, 512, 1)).user();
            var bob = new UserAdmin(store).create("bob", new UserAdmin.Quota(1, 1, 512, 1)).user();
            var images = new ImageService(store, dir.resolve("images"), new Tasks(Clock.systemUTC()), () -> List.of("minimal"), () -> { });
            String ref = demo.reference(DemoRegistry.IMAGE);

            var task = images.pull(alice, ref, "tool", RegistryClient.Credentials.ANONYMOUS);
            await().atMost(Duration.ofSeconds(60)).until(() -> task.state() != Tasks.State.RUNNING);
            assertThat(task.state()).as(task.error()).isEqualTo(Tasks.State.DONE);
            assertThat(task.parts()).hasSize(1).allSatisfy(p -> assertThat(p[0]).isEqualTo(p[1]));

            var image = images.get(alice, "tool");
            assertThat(image.source()).isEqualTo(ref);
            assertThat(image.config()).contains("GREETING");
            assertThat(Files.exists(images.rootfs(image))).isTrue();
            assertThatThrownBy(() -> images.get(bob, "tool")).isInstanceOf(DomainException.NotFound.class);
            assertThatThrownBy(() -> images.pull(alice, ref, "tool", RegistryClient.Credentials.ANONYMOUS))
                    .isInstanceOf(DomainException.Conflict.class);
            assertThatThrownBy(() -> images.pull(alice, ref, "minimal", RegistryClient.Credentials.ANONYMOUS))
                    .isInstanceOf(DomainException.Conflict.class).hasMessageContaining("built-in");

            var missing = images.pull(alice, demo.reference("demo/none:1"), "none", RegistryClient.Credentials.ANONYMOUS);
            await().atMost(Duration.ofSeconds(30)).until(() -> missing.state() != Tasks.State.RUNNING);
            assertThat(missing.state()).isEqualTo(Tasks.State.FAILED);
            assertThat(missing.error()).contains("not found");
            assertThat(images.list(alice)).extracting(i -> i.name()).containsExactly("tool");

            images.delete(alice, "tool");
            assertThat(images.list(alice)).isEmpty();
            assertThat(Files.exists(images.rootfs(image))).isFalse();
        }
    }
}

package dev.bhatti.server.image;

import dev.bhatti.server.auth.UserAdmin;
import dev.bhatti.server.store.ImageRecord;
import dev.bhatti.server.store.SqliteStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** Image rows: own before shared under one name, shares by name, sizes, deletes that take the shares along. */
class ImageRowsTest {
    @TempDir Path dir;

    static ImageRecord image(String id, String user, String name, long size) {
        return new ImageRecord(id, user, name, "127.0.0.1:5000/x:1", "sha256:" + "a".repeat(64), size, "{}", Instant.now());
    }

    @Test
    void ownImagesComeBeforeSharedOnesOfTheSameName() {
        try (var store = SqliteStore.open(dir.resolve("s.db"))) {
            var users = new UserAdmin(store);
            var alice = users.create("alice", new UserAdmin.Quota(1, 1, 512, 1)).user();
            var bob = users.create("bob", new UserAdmin.Quota(1, 1, 512, 1)).user();
            assertThat(store.insertImage(image("i1", alice.id(), "py", 100))).isTrue();
            assertThat(store.insertImage(image("i2", alice.id(), "py", 100))).as("one name per owner").isFalse();
            assertThat(store.insertImage(image("i3", bob.id(), "py", 50))).isTrue();
            store.shareImage("i1", bob.id());
            store.shareImage("i1", bob.id());

            assertThat(store.image(bob.id(), "py").orElseThrow().id()).as("bob's own first").isEqualTo("i3");
            assertThat(store.images(bob.id())).extracting(ImageRecord::id).containsExactly("i3", "i1");
            assertThat(store.imageShares("i1")).containsExactly("bob");
            assertThat(store.imageBytes(alice.id())).isEqualTo(100);

            assertThat(store.deleteImage("i3")).isTrue();
            assertThat(store.image(bob.id(), "py").orElseThrow().id()).as("then the shared one").isEqualTo("i1");
            assertThat(store.deleteImage("i1")).isTrue();
            assertThat(store.images(bob.id())).isEmpty();
            assertThat(store.image(alice.id(), "py")).isEmpty();
        }
    }
}

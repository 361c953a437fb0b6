package dev.bhatti.server.image.layers;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RootPathTest {
    @TempDir Path root;

    @Test
    void namesStayInsideTheRootWhateverTheyHold() throws Exception {
        assertThat(RootPath.resolve(root, "etc/passwd")).isEqualTo(root.resolve("etc/passwd"));
        assertThat(RootPath.resolve(root, "/etc/passwd")).isEqualTo(root.resolve("etc/passwd"));
        assertThat(RootPath.resolve(root, "../../etc/passwd")).isEqualTo(root.resolve("etc/passwd"));
        assertThat(RootPath.resolve(root, "./a/./b/../c")).isEqualTo(root.resolve("a/c"));
    }

    @Test
    void aPlantedSymlinkIsFollowedInsideTheRootNotOnTheHost() throws Exception {
        Files.createSymbolicLink(root.resolve("evil"), Path.of("/etc"));
        Files.createSymbolicLink(root.resolve("up"), Path.of("../../../../tmp"));
        assertThat(RootPath.resolve(root, "evil/passwd")).isEqualTo(root.resolve("etc/passwd"));
        assertThat(RootPath.resolve(root, "up/x")).isEqualTo(root.resolve("tmp/x"));
        assertThat(RootPath.resolve(root, "evil")).as("a final symlink is the link itself").isEqualTo(root.resolve("evil"));
    }

    @Test
    void mergedUsrLinksWork() throws Exception {
        Files.createDirectories(root.resolve("usr/lib"));
        Files.createSymbolicLink(root.resolve("lib"), Path.of("usr/lib"));
        assertThat(RootPath.resolve(root, "lib/libc.so.6")).isEqualTo(root.resolve("usr/lib/libc.so.6"));
    }

    @Test
    void aSymlinkLoopIsRefused() throws Exception {
        Files.createSymbolicLink(root.resolve("a"), Path.of("b"));
        Files.createSymbolicLink(root.resolve("b"), Path.of("a"));
        assertThatThrownBy(() -> RootPath.resolve(root, "a/x")).hasMessageContaining("too many symlinks");
    }
}

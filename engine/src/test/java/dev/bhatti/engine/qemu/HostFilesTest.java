package dev.bhatti.engine.qemu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static org.assertj.core.api.Assertions.assertThat;

class HostFilesTest {
    @TempDir Path dir;

    @Test
    void aPinnedBaseImageSurvivesItsRebuild() throws Exception {
        Path base = dir.resolve("rootfs-minimal-amd64.ext4");
        Files.writeString(base, "version 1");
        Path link = dir.resolve("images-link.ext4");
        Files.createSymbolicLink(link, base); // data dirs may link to a shared image cache
        Path first = HostFiles.pinned(link);
        assertThat(first).isNotEqualTo(base).startsWith(dir.resolve(".versions"));
        assertThat(HostFiles.pinned(base)).as("the same file, the same pin").isEqualTo(first);

        // a rebuild publishes by rename, as build-tier.sh does
        Path tmp = dir.resolve("rootfs.tmp");
        Files.writeString(tmp, "version 2");
        Files.move(tmp, base, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);

        Path second = HostFiles.pinned(base);
        assertThat(second).isNotEqualTo(first);
        assertThat(Files.readString(first)).as("layers made before read what they were made from").isEqualTo("version 1");
        assertThat(Files.readString(second)).isEqualTo("version 2");
    }
}

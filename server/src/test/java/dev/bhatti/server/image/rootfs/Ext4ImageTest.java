package dev.bhatti.server.image.rootfs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class Ext4ImageTest {
    @TempDir Path dir;

    static String debugfs(Path image, String request) throws Exception {
        Process p = new ProcessBuilder("debugfs", "-R", request, image.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).isZero();
        return out;
    }

    @Test
    void theTreeIsInTheImageWithItsOwnersModesAndLinks() throws Exception {
        Path tree = Files.createDirectories(dir.resolve("tree/usr/bin"));
        Path tool = Files.writeString(tree.resolve("tool"), "#!/bin/sh\n");
        Files.setAttribute(tool, "unix:uid", 1000);
        Files.setAttribute(tool, "unix:mode", 04755);
        Files.createSymbolicLink(dir.resolve("tree/bin"), Path.of("usr/bin"));
        Path image = dir.resolve("rootfs.ext4");

        long size = Ext4Image.build(dir.resolve("tree"), image);

        assertThat(Files.size(image)).isEqualTo(size).isGreaterThanOrEqualTo(Ext4Image.MIN_HEADROOM);
        String stat = debugfs(image, "stat /usr/bin/tool");
        assertThat(stat).contains("User:  1000").contains("Mode:  04755");
        assertThat(debugfs(image, "stat /bin")).contains("Fast link dest: \"usr/bin\"");
        assertThat(dir.resolve("rootfs.ext4.partial")).doesNotExist();
    }

    @Test
    void aFailedBuildLeavesNoImage() throws Exception {
        Path image = dir.resolve("rootfs.ext4");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Ext4Image.build(dir.resolve("missing"), image));
        assertThat(image).doesNotExist();
        assertThat(dir.resolve("rootfs.ext4.partial")).doesNotExist();
    }
}

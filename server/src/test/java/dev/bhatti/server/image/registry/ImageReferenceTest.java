package dev.bhatti.server.image.registry;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageReferenceTest {

    @Test
    void namesAreReadAsDockerReadsThem() {
        assertThat(ImageReference.parse("python:3.12")).isEqualTo(new ImageReference(ImageReference.DOCKER_HUB, "library/python", "3.12",
                java.util.Optional.empty()));
        assertThat(ImageReference.parse("node").tag()).isEqualTo("latest");
        assertThat(ImageReference.parse("docker.io/org/tool:1").repository()).isEqualTo("org/tool");
        var local = ImageReference.parse("127.0.0.1:5000/team/devbox:1");
        assertThat(local.registry()).isEqualTo("127.0.0.1:5000");
        assertThat(local.repository()).isEqualTo("team/devbox");
        assertThat(ImageReference.parse("localhost/x").registry()).isEqualTo("localhost");
        var pinned = ImageReference.parse("ghcr.io/o/r@sha256:" + "a".repeat(64));
        assertThat(pinned.manifestReference()).isEqualTo("sha256:" + "a".repeat(64));
        assertThat(pinned.toString()).isEqualTo("ghcr.io/o/r@sha256:" + "a".repeat(64));
    }

    @Test
    void badNamesAreRefusedWithTheReason() {
        assertThatThrownBy(() -> ImageReference.parse("")).hasMessageContaining("required");
        assertThatThrownBy(() -> ImageReference.parse("UPPER/case")).hasMessageContaining("lowercase");
        assertThatThrownBy(() -> ImageReference.parse("x@sha256:12")).hasMessageContaining("64 hex");
        assertThatThrownBy(() -> ImageReference.parse("a/../b")).hasMessageContaining("bad repository");
        assertThatThrownBy(() -> ImageReference.parse("x:bad tag")).hasMessageContaining("bad tag");
    }
}

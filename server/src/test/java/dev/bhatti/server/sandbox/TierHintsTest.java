package dev.bhatti.server.sandbox;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class TierHintsTest {

    @TempDir Path dir;

    TierHints hints() throws Exception {
        Path res = Files.createDirectories(dir.resolve(TierHints.RESOURCES));
        Files.writeString(res.resolve("tier-minimal.packages"), "sudo\n");
        Files.writeString(res.resolve("tier-desk.packages"), "@extends minimal\n@size 4G\n@min-cpus 2\n@min-memory 1536 # MB\nxfce4\n");
        Files.writeString(res.resolve("tier-desk2.packages"), "@extends desk\n@min-memory 3072\n");
        Files.writeString(res.resolve("tier-loop.packages"), "@extends loop\n@min-cpus 3\n");
        return new TierHints(new URLClassLoader(new URL[] {dir.toUri().toURL()}, null));
    }

    @Test
    void aTierBelowItsMinimumIsWarnedAbout() throws Exception {
        var h = hints();
        assertThat(h.warnings("desk", 2, 2048)).isEmpty();
        assertThat(h.warnings("desk", 1, 2048)).singleElement().asString()
                .contains("image desk recommends at least 2 vCPUs (this sandbox has 1)").contains("--cpus 2");
        assertThat(h.warnings("desk", 1, 512)).hasSize(2);
        assertThat(h.warnings("minimal", 1, 128)).isEmpty();
    }

    @Test
    void minimumsAreInheritedAndOverridden() throws Exception {
        var h = hints();
        assertThat(h.minimum("desk2")).isEqualTo(new TierHints.Minimum(2, 3072));
        assertThat(h.minimum("loop")).isEqualTo(new TierHints.Minimum(3, 0));
    }

    @Test
    void unknownOrOddNamesHaveNone() throws Exception {
        var h = hints();
        assertThat(h.minimum("nope")).isEqualTo(TierHints.Minimum.NONE);
        assertThat(h.minimum("../etc/passwd")).isEqualTo(TierHints.Minimum.NONE);
        assertThat(h.minimum(null)).isEqualTo(TierHints.Minimum.NONE);
    }
}

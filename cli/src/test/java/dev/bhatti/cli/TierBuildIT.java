package dev.bhatti.cli;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code bhatti tier build}: what it says about a tier it does not know, and one build of a tier at a time. */
class TierBuildIT {

    @Test
    void anUnknownTierIsRefusedWithTheKnownOnes() throws Exception {
        var r = BhattiProcess.cli(Map.of(), "tier", "build", "desktop", "--data-dir", "/tmp/bhatti-no-such-build");
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).contains("unknown tier 'desktop'").contains("known tiers: minimal").contains("docker");
    }

    @Test
    void aSecondBuildOfATierWaitsForTheFirst() throws Exception {
        BhattiProcess.linkImages(java.nio.file.Files.createTempDirectory("bhatti-tierbuild-"));
        Path lock = BhattiProcess.IMAGE_CACHE.resolve("images/.build-minimal.lock");
        // a build in progress, as far as the lock goes: flock(1) takes the lock build-tier.sh takes
        Process holder = new ProcessBuilder("flock", "-o", lock.toString(), "-c", "echo locked; exec sleep 600").start();
        try {
            var out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            assertThat(out.readLine()).isEqualTo("locked");
            var second = new ProcessBuilder(BhattiProcess.JAVA, "--enable-native-access=ALL-UNNAMED", "-jar", BhattiProcess.JAR.toString(),
                    "tier", "build", "minimal", "--data-dir", BhattiProcess.IMAGE_CACHE.toString())
                    .redirectErrorStream(true).start();
            var lines = new BufferedReader(new InputStreamReader(second.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = lines.readLine()) != null && !line.contains("another build")) {
                // progress before the lock
            }
            assertThat(line).as("the second build says it waits").contains("waiting for it");
            assertThat(second.isAlive()).isTrue();
            holder.descendants().forEach(ProcessHandle::destroy);
            holder.destroy();
            assertThat(holder.waitFor(30, TimeUnit.SECONDS)).isTrue();
            var rest = new StringBuilder();
            while ((line = lines.readLine()) != null) rest.append(line).append('\n');
            assertThat(second.waitFor(Duration.ofMinutes(5).toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(second.exitValue()).as(rest.toString()).isZero();
            // once the first is done, the tier is up to date: the second finds it so and builds nothing
            assertThat(rest.toString()).contains("up to date");
        } finally {
            holder.descendants().forEach(ProcessHandle::destroyForcibly);
            holder.destroyForcibly();
        }
    }
}

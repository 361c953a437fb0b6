package dev.bhatti.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Flags win over the environment, the environment over the config file, the file over the default. */
class CliConfigTest {

    @TempDir Path dir;

    @Test
    void theEnvironmentWinsOverTheFileAndFlagsOverBoth() throws Exception {
        Path file = dir.resolve("config.yaml");
        Files.writeString(file, "api_url: http://file:1\nauth_token: bht_file\n");
        var fileOnly = Map.of("BHATTI_CONFIG", file.toString());
        assertThat(CliConfig.resolve(null, null, fileOnly)).isEqualTo(new CliConfig("http://file:1", "bht_file"));

        var env = Map.of("BHATTI_CONFIG", file.toString(), "BHATTI_URL", "http://env:2/", "BHATTI_TOKEN", "bht_env");
        assertThat(CliConfig.resolve(null, null, env)).isEqualTo(new CliConfig("http://env:2", "bht_env"));
        assertThat(CliConfig.resolve("http://flag:3", "bht_flag", env)).isEqualTo(new CliConfig("http://flag:3", "bht_flag"));

        // each setting on its own: the environment's token with the file's URL, and the other way round
        assertThat(CliConfig.resolve(null, null, Map.of("BHATTI_CONFIG", file.toString(), "BHATTI_TOKEN", "bht_env")))
                .isEqualTo(new CliConfig("http://file:1", "bht_env"));
        assertThat(CliConfig.resolve(null, null, Map.of("BHATTI_CONFIG", file.toString(), "BHATTI_URL", "http://env:2", "BHATTI_TOKEN", " ")))
                .as("a blank variable counts as unset").isEqualTo(new CliConfig("http://env:2", "bht_file"));
    }

    @Test
    void withoutFileOrEnvironmentTheLocalDefault() throws Exception {
        var none = Map.of("BHATTI_CONFIG", dir.resolve("missing.yaml").toString());
        assertThat(CliConfig.resolve(null, null, none)).isEqualTo(new CliConfig(CliConfig.DEFAULT_URL, null));
    }
}

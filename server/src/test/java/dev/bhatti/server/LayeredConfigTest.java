package dev.bhatti.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The daemon's settings in layers: defaults, the system file, the data directory's file, the flags. */
class LayeredConfigTest {
    @TempDir Path dir;

    Path system(String yaml) throws Exception {
        Path f = dir.resolve("etc-config.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    Path dataDir(String yaml) throws Exception {
        Path d = Files.createDirectories(dir.resolve("data"));
        if (yaml != null) Files.writeString(d.resolve("config.yaml"), yaml);
        return d;
    }

    @Test
    void eachLayerOverridesTheOneBeforeKeyByKey() throws Exception {
        Path data = dataDir("engine:\n  boot_timeout_sec: 60\nthermal:\n  cold_after_sec: 90\n");
        var c = ServerConfig.load(system("""
                data_dir: %s
                listen: 127.0.0.1:9000
                engine:
                  accel: tcg
                  boot_timeout_sec: 30
                thermal:
                  warm_after_sec: 10
                """.formatted(data)), null, null);
        assertThat(c.dataDir()).isEqualTo(data);
        assertThat(c.port()).isEqualTo(9000);
        assertThat(c.accel()).isEqualTo("tcg");                      // system file, untouched by the data dir's
        assertThat(c.bootTimeout().toSeconds()).isEqualTo(60);       // the data dir's file wins
        assertThat(c.thermal().warmAfter().toSeconds()).isEqualTo(10); // the sections merge, not replace
        assertThat(c.thermal().coldAfter().toSeconds()).isEqualTo(90);

        var flags = ServerConfig.load(system("listen: 127.0.0.1:9000\n"), data, "127.0.0.1:9100");
        assertThat(flags.port()).isEqualTo(9100);
        assertThat(flags.dataDir()).isEqualTo(data);
        assertThat(ServerConfig.load(null, data, null).port()).isEqualTo(8080);
    }

    @Test
    void aBadValueIsReportedWithItsFileLineAndKey() throws Exception {
        Path sys = system("listen: 127.0.0.1:9000\nengine:\n  accel: tcg\n  jail: maybe\n");
        assertThatThrownBy(() -> ServerConfig.load(sys, dataDir(null), null))
                .hasMessage(sys + " line 4: engine.jail must be true or false");

        // the same key set badly in the data dir's file is that file's fault
        Path data = dataDir("\n\nthermal:\n  tick_sec: 5s\n");
        assertThatThrownBy(() -> ServerConfig.load(system("thermal:\n  tick_sec: 5\n"), data, null))
                .hasMessage(data.resolve("config.yaml") + " line 4: thermal.tick_sec must be a number, got \"5s\"");
    }

    @Test
    void theDefaultImageIsMinimalUnlessTheConfigNamesAnother() throws Exception {
        assertThat(ServerConfig.load(null, dataDir(null), null).defaultImage()).isEqualTo("minimal");
        assertThat(ServerConfig.load(system("default_image: browser\n"), dataDir(null), null).defaultImage()).isEqualTo("browser");
        Path bad = system("listen: 127.0.0.1:9000\ndefault_image: ../etc\n");
        assertThatThrownBy(() -> ServerConfig.load(bad, dataDir(null), null))
                .hasMessageStartingWith(bad + " line 2: default_image must be an image name");
    }

    @Test
    void aMisspeltSettingIsRefusedRatherThanIgnored() throws Exception {
        Path sys = system("lisen: 0.0.0.0:8080\n");
        assertThatThrownBy(() -> ServerConfig.load(sys, dataDir(null), null))
                .hasMessageStartingWith(sys + " line 1: unknown setting 'lisen' (known: ");
        Path sys2 = system("engine:\n  acel: kvm\n");
        assertThatThrownBy(() -> ServerConfig.load(sys2, dataDir(null), null))
                .hasMessageStartingWith(sys2 + " line 2: unknown setting 'engine.acel'");
    }

    @Test
    void aFileThatIsNotYamlOrNotReadableStopsTheDaemonNamingIt() throws Exception {
        Path sys = system("listen: 127.0.0.1:9000\nengine: [unclosed\n");
        assertThatThrownBy(() -> ServerConfig.load(sys, dataDir(null), null))
                .hasMessageStartingWith(sys + " line ").hasMessageContaining("not valid YAML");
        assertThatThrownBy(() -> ServerConfig.load(system("- a\n- b\n"), dataDir(null), null))
                .hasMessageContaining("must be a mapping");
        assertThatThrownBy(() -> ServerConfig.load(dir.resolve("missing.yaml"), dataDir(null), null))
                .hasMessage(dir.resolve("missing.yaml") + ": no such file");
        Path locked = system("listen: 127.0.0.1:9000\n");
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        if (!Files.isReadable(locked)) { // root reads anything
            assertThatThrownBy(() -> ServerConfig.load(locked, dataDir(null), null)).hasMessageContaining("cannot be read");
        }
    }

    @Test
    void theDataDirIsChosenOnlyByTheSystemFileOrTheFlag() throws Exception {
        assertThatThrownBy(() -> ServerConfig.load(system("data_dir: relative/dir\n"), null, null))
                .hasMessageContaining("line 1: data_dir must be an absolute path");
        Path data = dataDir("data_dir: /elsewhere\n");
        assertThatThrownBy(() -> ServerConfig.load(null, data, null))
                .hasMessageContaining("config.yaml line 1: data_dir cannot be set in the data directory's own config.yaml");
        assertThat(ServerConfig.load(system("# only a comment\n"), data.resolveSibling("other"), null).dataDir())
                .isEqualTo(data.resolveSibling("other"));
    }
}

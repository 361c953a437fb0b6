package dev.bhatti.sdk;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Where the SDK finds the daemon: arguments, then the environment, then the CLI's file, then the local default. */
class BhattiConfigTest {
    @TempDir Path home;

    private Path cliFile(String text) throws Exception {
        Path f = home.resolve(".bhatti/config.yaml");
        Files.createDirectories(f.getParent());
        return Files.writeString(f, text);
    }

    @Test
    void argumentsWinOverTheEnvironmentWhichWinsOverTheFile() throws Exception {
        cliFile("api_url: http://file:1\nauth_token: file-key\n");
        var env = Map.of("BHATTI_URL", "http://env:2", "BHATTI_TOKEN", "env-key");
        assertThat(BhattiConfig.resolve("http://arg:3", "arg-key", env, home)).isEqualTo(new BhattiConfig("http://arg:3", "arg-key"));
        assertThat(BhattiConfig.resolve(null, null, env, home)).isEqualTo(new BhattiConfig("http://env:2", "env-key"));
        assertThat(BhattiConfig.resolve(null, null, Map.of(), home)).isEqualTo(new BhattiConfig("http://file:1", "file-key"));
    }

    @Test
    void eachSettingIsLookedUpOnItsOwnAndBlankMeansUnset() throws Exception {
        cliFile("api_url: http://file:1\nauth_token: file-key\n");
        assertThat(BhattiConfig.resolve(null, null, Map.of("BHATTI_TOKEN", "env-key", "BHATTI_URL", "  "), home))
                .isEqualTo(new BhattiConfig("http://file:1", "env-key"));
        assertThat(BhattiConfig.resolve("http://arg:3", " ", Map.of(), home)).isEqualTo(new BhattiConfig("http://arg:3", "file-key"));
    }

    @Test
    void withoutAnyConfigurationItIsTheLocalDaemonWithoutAKey() {
        assertThat(BhattiConfig.resolve(null, null, Map.of(), home)).isEqualTo(new BhattiConfig(BhattiConfig.DEFAULT_URL, null));
    }

    @Test
    void bhattiConfigNamesAnotherFile() throws Exception {
        cliFile("api_url: http://default-file:1\n");
        Path other = Files.writeString(home.resolve("other.yaml"), "api_url: http://other:9/\n");
        assertThat(BhattiConfig.resolve(null, null, Map.of("BHATTI_CONFIG", other.toString()), home).url()).isEqualTo("http://other:9");
    }

    @Test
    void theFileIsReadAsTheCliWritesIt() throws Exception {
        cliFile("""
                # written by bhatti setup
                api_url: "https://bhatti.example.com/"   # the public one
                auth_token: 'bht_0123'  # admin
                proxy:
                  api_url: http://nested-is-ignored
                """);
        assertThat(BhattiConfig.resolve(null, null, Map.of(), home)).isEqualTo(new BhattiConfig("https://bhatti.example.com", "bht_0123"));
    }

    @Test
    void aMissingOrUnreadableFileIsNoConfiguration() throws Exception {
        assertThat(BhattiConfig.readFile(home.resolve("nope.yaml"))).isEmpty();
        assertThat(BhattiConfig.readFile(home)).as("a directory").isEmpty();
    }

    @Test
    void aUrlThatIsNoHttpUrlIsRefusedWithTheReason() {
        assertThatThrownBy(() -> new BhattiConfig("127.0.0.1:8080", null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("http://");
        assertThatThrownBy(() -> new BhattiConfig("ftp://x", null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new BhattiConfig("http://x/?a=b", null)).hasMessageContaining("query");
        assertThatThrownBy(() -> new BhattiConfig("http://a b", null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a URL");
        assertThatThrownBy(() -> new BhattiConfig(" ", null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new BhattiConfig("http://x", "two words")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("API key");
        assertThat(new BhattiConfig("http://x:1///", null).url()).isEqualTo("http://x:1");
    }

    @Test
    void theKeyIsNeverShown() {
        assertThat(new BhattiConfig("http://x", "bht_secret").toString()).doesNotContain("secret");
    }
}

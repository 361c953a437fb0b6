package dev.bhatti.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ServerConfigTest {
    @TempDir Path dir;

    ServerConfig load(String yaml) throws Exception {
        Files.writeString(dir.resolve("config.yaml"), yaml);
        return ServerConfig.load(dir, null);
    }

    static final String PROXY = """
            proxy:
              listen: 127.0.0.1:8081
              domain: sb.example.com
              tls:
                listen: 127.0.0.1:8443
                cert_file: /c.pem
                key_file: /k.pem
            """;

    @Test
    void theApiHostGivesTheApiAnHttpsUrlOnTheTlsListener() throws Exception {
        var tls = load(PROXY + "    api_host: api.sb.example.com\n").proxy().tls();
        assertThat(tls.apiHost()).isEqualTo("api.sb.example.com");
        assertThat(tls.apiUrl()).contains("https://api.sb.example.com:8443");
        assertThat(load(PROXY + "    public_port: 443\n    api_host: bhatti.example.org\n").proxy().tls().apiUrl())
                .contains("https://bhatti.example.org");
        assertThat(load(PROXY).proxy().tls().apiUrl()).isEmpty();
    }

    @Test
    void aBadApiHostIsRefusedWithTheSettingsName() {
        for (String bad : new String[] {"API.example.com", "https://api.example.com", "api example", "-api.example.com"}) {
            assertThatThrownBy(() -> load(PROXY + "    api_host: \"" + bad + "\"\n"))
                    .as(bad).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("proxy.tls.api_host");
        }
    }

    @Test
    void privateRangesTheOperatorAllowsAreReadAndABadOneStopsTheDaemonNamingTheKey() throws Exception {
        assertThat(load("network: {enabled: true}\n").network().allowPrivate().allowed()).isEmpty();
        assertThat(load("network:\n  enabled: true\n  allow_private: [10.0.5.0/24, 169.254.169.254]\n").network().allowPrivate().allowed())
                .containsExactly("10.0.5.0/24", "169.254.169.254/32");
        for (String bad : new String[] {"[10.0.5.0/40]", "[lan]", "10.0.5.0/24", "[[10.0.5.0/24]]", "[10.0.5.9/24]"}) {
            assertThatThrownBy(() -> load("network:\n  enabled: true\n  allow_private: " + bad + "\n")).as(bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("network.allow_private")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        }
    }

    @Test
    void withoutAProxySectionTheProxyRunsBesideTheApiWithNamesThatNeedNoDns() throws Exception {
        var p = load("thermal: {tick_sec: 1}\n").proxy();
        assertThat(p.implicit()).isTrue();
        assertThat(p.listen()).as("the API's default port + 1").isEqualTo("127.0.0.1:8081");
        assertThat(p.url("web")).isEqualTo("http://web.localhost:8081/");
        assertThat(load("proxy:\n").proxy().implicit()).as("an empty section is none").isTrue();
        Files.writeString(dir.resolve("config.yaml"), "");
        assertThat(ServerConfig.load(dir, "127.0.0.1:9400").proxy().listen()).as("after the --listen flag").isEqualTo("127.0.0.1:9401");
        var everywhere = ServerConfig.load(dir, "0.0.0.0:9400").proxy();
        assertThat(everywhere.listen()).isEqualTo("0.0.0.0:9401");
        assertThat(everywhere.domain()).as("this host's address, dashed, or localhost without a route").matches("(\\d+-){3}\\d+\\.sslip\\.io|localhost");
    }

    @Test
    void anExplicitProxySectionIsTakenAsWrittenAndCanTurnTheProxyOff() throws Exception {
        var p = load(PROXY).proxy();
        assertThat(p.implicit()).isFalse();
        assertThat(p.listen()).isEqualTo("127.0.0.1:8081");
        assertThat(p.domain()).isEqualTo("sb.example.com");
        assertThat(p.tls()).isNotNull();
        assertThat(load("proxy: {listen: 0.0.0.0:80, domain: sb.example.com, enabled: true}\n").proxy().url("web"))
                .isEqualTo("http://web.sb.example.com/");
        assertThat(load("proxy: {enabled: false}\n").proxy()).isNull();
        assertThat(load("proxy: {enabled: false, listen: nonsense}\n").proxy()).as("nothing else is read").isNull();
        assertThatThrownBy(() -> load("proxy: {enabled: no thanks}\n")).hasMessage("proxy.enabled must be true or false");
        assertThatThrownBy(() -> load("proxy: {domain: sb.example.com}\n")).hasMessageContaining("proxy.listen");
    }

    @Test
    void theJailIsOnUnlessTheOperatorTurnsItOff() throws Exception {
        boolean envOff = "off".equals(System.getenv("BHATTI_JAIL"));
        assertThat(load("listen: 127.0.0.1:9\n").jail()).isEqualTo(!envOff);
        assertThat(load("engine: {jail: false}\n").jail()).isFalse();
        assertThatThrownBy(() -> load("engine: {jail: sometimes}\n")).hasMessage("engine.jail must be true or false");
        assertThat(load("listen: 127.0.0.1:9\n").memoryFile()).as("off unless asked for").isFalse();
        assertThat(load("engine: {memory_file: true}\n").memoryFile()).isTrue();
        assertThatThrownBy(() -> load("engine: {memory_file: yes please}\n")).hasMessage("engine.memory_file must be true or false");
    }
}

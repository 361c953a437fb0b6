package dev.bhatti.cli;

import org.junit.jupiter.api.Test;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The simple reading of the config file agrees with YAML, or declines. */
class FlatConfigFileTest {

    @Test
    void readsWhatTheDaemonWritesAsYamlWould() {
        String written = "api_url: http://127.0.0.1:8080\nauth_token: bht_0123abcd\n";
        assertThat(FlatConfigFile.parse(written)).contains(Map.of("api_url", "http://127.0.0.1:8080", "auth_token", "bht_0123abcd"));
        for (String text : List.of(written, "# mine\napi_url: 'https://b.example/x'   # comment\r\n\nauth_token: \"k-1\"\n",
                "api_url:    http://h:1/path?q=a=b\n", "api_url: http://h\nother: value\n")) {
            var yaml = new YAMLMapper().readTree(text);
            var flat = FlatConfigFile.parse(text).orElseThrow();
            for (String key : List.of("api_url", "auth_token")) {
                assertThat(flat.get(key)).as(text + " " + key).isEqualTo(yaml.path(key).asString(null));
            }
        }
    }

    @Test
    void leavesAnythingElseToTheYamlParser() {
        for (String text : List.of("api_url:\n", "api_url: null\n", "api_url: 8080\n", "auth_token: true\n", "api_url: \"a\\tb\"\n",
                "api_url: 'it''s'\n", "---\napi_url: x\n", "api:\n  url: x\n", "api_url: x\napi_url: y\n", "api_url: [a, b]\n",
                "api_url: a #b c\n".replace(" #", "#"), "  api_url: x\n", "api_url: &a x\n", "api_url: x: y\n")) {
            assertThat(FlatConfigFile.parse(text)).as(text).isEmpty();
        }
    }
}

package dev.bhatti.cli;

import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.nio.charset.CharacterCodingException;
import java.util.HashMap;

/**
 * Where the CLI finds the daemon: flags, then {@code BHATTI_URL} / {@code BHATTI_TOKEN}, then
 * {@code ~/.bhatti/config.yaml} (or {@code $BHATTI_CONFIG}), then the local default. The environment wins
 * over the file, as is the convention: a user who exports another key means to act with it.
 */
public record CliConfig(String url, String token) {

    public static final String DEFAULT_URL = "http://127.0.0.1:8080";

    public static Path file(Map<String, String> env) {
        String explicit = env.get("BHATTI_CONFIG");
        if (explicit != null && !explicit.isBlank()) return Path.of(explicit);
        return Path.of(sudoUserHome(env).orElse(System.getProperty("user.home")), ".bhatti", "config.yaml");
    }

    /** Under sudo, the user who ran sudo: their config belongs in their home, owned by them. */
    public static Optional<String> sudoUser(Map<String, String> env) {
        String user = env.get("SUDO_USER");
        return user == null || user.isBlank() || user.equals("root") ? Optional.empty() : Optional.of(user);
    }

    private static Optional<String> sudoUserHome(Map<String, String> env) {
        var user = sudoUser(env);
        if (user.isEmpty()) return Optional.empty();
        try {
            for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
                String[] f = line.split(":", -1);
                if (f.length >= 7 && f[0].equals(user.get())) return Optional.of(f[5]);
            }
        } catch (IOException e) {
            // fall back to our own home
        }
        return Optional.empty();
    }

    public static CliConfig resolve(String urlFlag, String tokenFlag, Map<String, String> env) throws IOException {
        String url = urlFlag != null ? urlFlag : blankToNull(env.get("BHATTI_URL"));
        String token = tokenFlag != null ? tokenFlag : blankToNull(env.get("BHATTI_TOKEN"));
        Path file = file(env);
        if ((url == null || token == null) && Files.exists(file)) {
            Map<String, String> values = readFile(file);
            if (url == null) url = blankToNull(values.get("api_url"));
            if (token == null) token = blankToNull(values.get("auth_token"));
        }
        if (url == null) url = DEFAULT_URL;
        while (url.endsWith("/")) url = url.substring(0, url.length() - 1);
        return new CliConfig(url, token);
    }

    /** Top-level string settings of the config file; the YAML parser only when the simple reading does not suffice. */
    private static Map<String, String> readFile(Path file) throws IOException {
        try {
            var simple = FlatConfigFile.parse(Files.readString(file));
            if (simple.isPresent()) return simple.get();
        } catch (CharacterCodingException e) {
            // not UTF-8: the YAML parser decides
        }
        JsonNode root = new YAMLMapper().readTree(file.toFile());
        var values = new HashMap<String, String>();
        if (root != null && root.isObject()) {
            for (String key : List.of("api_url", "auth_token")) {
                String v = root.path(key).asString(null);
                if (v != null) values.put(key, v);
            }
        }
        return values;
    }

    private static String blankToNull(String s) { return s == null || s.isBlank() ? null : s.strip(); }
}

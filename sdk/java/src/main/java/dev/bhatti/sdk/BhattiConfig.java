package dev.bhatti.sdk;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Where the daemon is and the key to use, found as the CLI finds them: what the program passes, then
 * {@code BHATTI_URL} / {@code BHATTI_TOKEN}, then the CLI's config file ({@code $BHATTI_CONFIG}, else
 * {@code ~/.bhatti/config.yaml}: its top-level {@code api_url:} and {@code auth_token:} lines), then
 * {@value #DEFAULT_URL} without a key. Each of the two is looked up on its own: a key from the
 * environment and the URL from the file is a valid mix.
 *
 * @param url   the daemon's base URL, without a trailing slash
 * @param token the API key ({@code bht_...}), or null when none was found
 */
public record BhattiConfig(String url, String token) {

    /** The daemon's address when nothing says otherwise: a local daemon on its default port. */
    public static final String DEFAULT_URL = "http://127.0.0.1:8080";

    public BhattiConfig {
        url = checkedUrl(url);
        if (token != null && (token.isBlank() || token.chars().anyMatch(c -> c <= ' ' || c == 0x7f))) {
            throw new IllegalArgumentException("the API key must not be blank or contain spaces or control characters");
        }
    }

    /** From the environment and the CLI's config file of the user running this program. */
    public static BhattiConfig resolve() { return resolve(null, null); }

    /** {@code url} and {@code token} where given (null: look them up as described above). */
    public static BhattiConfig resolve(String url, String token) {
        return resolve(url, token, System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /** The lookup with its inputs explicit: the environment and the home directory the default file is under. */
    static BhattiConfig resolve(String url, String token, Map<String, String> env, Path home) {
        String u = blankToNull(url);
        String t = blankToNull(token);
        if (u == null) u = blankToNull(env.get("BHATTI_URL"));
        if (t == null) t = blankToNull(env.get("BHATTI_TOKEN"));
        if (u == null || t == null) {
            Map<String, String> file = readFile(configFile(env, home));
            if (u == null) u = blankToNull(file.get("api_url"));
            if (t == null) t = blankToNull(file.get("auth_token"));
        }
        return new BhattiConfig(u == null ? DEFAULT_URL : u, t);
    }

    /** {@code $BHATTI_CONFIG}, else {@code ~/.bhatti/config.yaml}. */
    static Path configFile(Map<String, String> env, Path home) {
        String explicit = blankToNull(env.get("BHATTI_CONFIG"));
        return explicit != null ? Path.of(explicit) : home.resolve(".bhatti").resolve("config.yaml");
    }

    /**
     * The file's top-level {@code key: value} lines (flat YAML as the daemon and {@code bhatti setup} write
     * it): comments after {@code " #"} and one pair of quotes are dropped. A missing or unreadable file is empty.
     */
    static Map<String, String> readFile(Path file) {
        var values = new HashMap<String, String>();
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return values;
        }
        for (String line : text.split("\r?\n")) {
            if (line.isEmpty() || " \t#".indexOf(line.charAt(0)) >= 0) continue;
            int colon = line.indexOf(':');
            if (colon < 0) continue;
            String value = line.substring(colon + 1);
            int comment = value.indexOf(" #");
            if (comment >= 0) value = value.substring(0, comment);
            value = value.strip();
            if (value.length() >= 2 && (value.charAt(0) == '"' || value.charAt(0) == '\'') && value.charAt(value.length() - 1) == value.charAt(0)) {
                value = value.substring(1, value.length() - 1);
            }
            values.putIfAbsent(line.substring(0, colon).strip(), value);
        }
        return values;
    }

    private static String checkedUrl(String url) {
        if (url == null || url.isBlank()) throw new IllegalArgumentException("the daemon's URL must not be blank");
        String u = url.strip();
        while (u.endsWith("/")) u = u.substring(0, u.length() - 1);
        try {
            URI uri = new URI(u);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
                throw new IllegalArgumentException("the daemon's URL must be http://HOST[:PORT] or https://..., got " + Validate.printable(url));
            }
            if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
                throw new IllegalArgumentException("the daemon's URL must have no query or fragment, got " + Validate.printable(url));
            }
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("the daemon's URL is not a URL (" + e.getReason() + "); it must be http://HOST[:PORT] or https://..., got "
                    + Validate.printable(url));
        }
        return u;
    }

    private static String blankToNull(String s) { return s == null || s.isBlank() ? null : s.strip(); }

    /** The key is not shown: a config in a log must not leak it. */
    @Override
    public String toString() { return "BhattiConfig[url=" + url + ", token=" + (token == null ? "none" : "bht_...") + "]"; }
}

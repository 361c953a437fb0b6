package dev.bhatti.server.volume.backup;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.parser.CronParser;
import tools.jackson.databind.JsonNode;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code backup:} section of config.yaml: where volume backups go and when they are made.
 * <pre>
 * backup:
 *   endpoint: https://s3.eu-central-1.amazonaws.com   # any S3-compatible store (MinIO, R2, B2...)
 *   bucket: my-bhatti-backups
 *   region: us-east-1            # default
 *   access_key: secret:S3_KEY    # a literal, or secret:NAME = the admin user's secret NAME
 *   secret_key: secret:S3_SECRET
 *   prefix: bhatti               # default; every key lies under it
 *   chunk_size: 1M               # default; 64K..64M, a multiple of 4K
 *   schedule:
 *     - {volume: data, user: admin, cron: "0 3 * * *", retention: 7}
 * </pre>
 * {@code accessKey}/{@code secretKey} keep the raw text; {@link #credentials} resolves {@code secret:} references.
 */
public record BackupConfig(URI endpoint, String bucket, String region, String accessKey, String secretKey, String prefix,
                           int chunkSize, List<Schedule> schedule) {

    public static final String SECRET_REF = "secret:";
    public static final int MIN_CHUNK = 64 << 10, MAX_CHUNK = 64 << 20, DEFAULT_CHUNK = 1 << 20;

    private static final Set<String> KEYS = Set.of("endpoint", "bucket", "region", "access_key", "secret_key", "prefix",
            "chunk_size", "schedule");
    private static final Set<String> ENTRY_KEYS = Set.of("volume", "user", "cron", "retention");
    private static final Pattern SIZE = Pattern.compile("(\\d{1,9})\\s*([KM]i?B?)?", Pattern.CASE_INSENSITIVE);
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*");
    private static final CronParser CRON = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

    /** One scheduled backup: {@code volume} of the user named {@code user}, at {@code cron} (5 fields), keeping {@code retention}. */
    public record Schedule(String volume, String user, String cron, int retention) {}

    /** Resolved S3 credentials; the secret never shows in logs. */
    public record Credentials(String accessKey, String secretKey) {
        @Override
        public String toString() { return "Credentials[accessKey=" + accessKey + ", secretKey=***]"; }
    }

    /**
     * Parses the {@code backup:} node of config.yaml ({@code root.path("backup")}); null when the section is
     * absent or null (backups off). IllegalArgumentException naming the key for any bad value.
     */
    public static BackupConfig parse(JsonNode b) {
        if (b == null || b.isMissingNode() || b.isNull()) return null;
        if (!b.isObject()) throw new IllegalArgumentException("backup must be a mapping");
        for (String k : b.propertyNames()) {
            if (!KEYS.contains(k)) throw new IllegalArgumentException("backup." + k + " is not a setting; known: " + String.join(", ", KEYS.stream().sorted().toList()));
        }
        URI endpoint = endpoint(required(b, "endpoint"));
        String bucket = required(b, "bucket");
        String region = text(b, "region", "us-east-1");
        String accessKey = required(b, "access_key");
        String secretKey = required(b, "secret_key");
        String prefix = text(b, "prefix", "bhatti");
        while (prefix.endsWith("/")) prefix = prefix.substring(0, prefix.length() - 1);
        if (!PREFIX.matcher(prefix).matches() || List.of(prefix.split("/")).stream().anyMatch(seg -> seg.equals(".") || seg.equals(".."))) throw new IllegalArgumentException("backup.prefix must be path segments of letters, digits, '.', '_' or '-', got '" + prefix + "'");
        int chunkSize = chunkSize(b.path("chunk_size"));
        return new BackupConfig(endpoint, bucket, region, accessKey, secretKey, prefix, chunkSize, schedule(b.path("schedule")));
    }

    /** The credentials, {@code secret:NAME} values taken from {@code adminSecret} (null when there is no such secret). */
    public Credentials credentials(Function<String, String> adminSecret) {
        return new Credentials(resolve("backup.access_key", accessKey, adminSecret), resolve("backup.secret_key", secretKey, adminSecret));
    }

    private static String resolve(String key, String raw, Function<String, String> adminSecret) {
        if (!raw.startsWith(SECRET_REF)) return raw;
        String name = raw.substring(SECRET_REF.length());
        String value = adminSecret.apply(name);
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(key + " refers to secret '" + name + "', which the admin user does not have (bhatti secret set " + name + " ...)");
        }
        return value;
    }

    private static URI endpoint(String value) {
        URI uri;
        try {
            uri = URI.create(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("backup.endpoint is not a URL: '" + value + "'");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
            throw new IllegalArgumentException("backup.endpoint must be an http(s) URL like https://s3.example.com, got '" + value + "'");
        }
        return uri;
    }

    private static int chunkSize(JsonNode n) {
        if (n.isMissingNode() || n.isNull()) return DEFAULT_CHUNK;
        long bytes;
        if (n.isIntegralNumber()) {
            bytes = n.asLong();
        } else {
            Matcher m = n.isString() ? SIZE.matcher(n.asString().strip()) : null;
            if (m == null || !m.matches()) throw new IllegalArgumentException("backup.chunk_size must be a size like 1M, 4M or 512K, got " + n);
            String unit = m.group(2) == null ? "" : m.group(2).substring(0, 1).toUpperCase(Locale.ROOT);
            bytes = Long.parseLong(m.group(1)) << switch (unit) { case "K" -> 10; case "M" -> 20; default -> 0; };
        }
        if (bytes < MIN_CHUNK || bytes > MAX_CHUNK || bytes % 4096 != 0) {
            throw new IllegalArgumentException("backup.chunk_size must be between 64K and 64M and a multiple of 4K, got " + n);
        }
        return (int) bytes;
    }

    private static List<Schedule> schedule(JsonNode s) {
        if (s.isMissingNode() || s.isNull()) return List.of();
        if (!s.isArray()) throw new IllegalArgumentException("backup.schedule must be a list of {volume, user, cron, retention}");
        var out = new ArrayList<Schedule>();
        for (int i = 0; i < s.size(); i++) {
            JsonNode e = s.get(i);
            String at = "backup.schedule[" + i + "]";
            if (!e.isObject()) throw new IllegalArgumentException(at + " must be a mapping {volume, user, cron, retention}");
            for (String k : e.propertyNames()) {
                if (!ENTRY_KEYS.contains(k)) throw new IllegalArgumentException(at + "." + k + " is not a setting; known: cron, retention, user, volume");
            }
            String volume = required(e, "volume", at);
            if (!BackupNames.NAME.matcher(volume).matches()) throw new IllegalArgumentException(at + ".volume is not a volume name: '" + volume + "'");
            String user = text(e, "user", "admin", at);
            String cron = required(e, "cron", at);
            try {
                CRON.parse(cron).validate();
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException(at + ".cron must be 5 fields (minute hour day-of-month month day-of-week), got '"
                        + cron + "': " + ex.getMessage());
            }
            JsonNode r = e.path("retention");
            if (!r.isIntegralNumber() || r.asLong() < 1 || r.asLong() > 10_000) {
                throw new IllegalArgumentException(at + ".retention must be a whole number of backups to keep, >= 1, got " + (r.isMissingNode() ? "nothing" : r));
            }
            out.add(new Schedule(volume, user, cron, r.asInt()));
        }
        return List.copyOf(out);
    }

    private static String required(JsonNode n, String key) { return required(n, key, "backup"); }

    private static String required(JsonNode n, String key, String at) {
        String v = text(n, key, null, at);
        if (v == null || v.isBlank()) throw new IllegalArgumentException(at + "." + key + " is required");
        return v;
    }

    private static String text(JsonNode n, String key, String fallback) { return text(n, key, fallback, "backup"); }

    private static String text(JsonNode n, String key, String fallback, String at) {
        JsonNode v = n.path(key);
        if (v.isMissingNode() || v.isNull()) return fallback;
        if (!v.isString() && !v.isNumber()) throw new IllegalArgumentException(at + "." + key + " must be text, got " + v);
        return v.asString().strip();
    }

    @Override
    public String toString() {
        return "BackupConfig[endpoint=" + endpoint + ", bucket=" + bucket + ", region=" + region + ", accessKey=" + accessKey
                + ", secretKey=" + (secretKey.startsWith(SECRET_REF) ? secretKey : "***") + ", prefix=" + prefix + ", chunkSize=" + chunkSize
                + ", schedule=" + schedule + "]";
    }
}

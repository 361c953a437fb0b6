package dev.bhatti.server.volume.backup;

import org.junit.jupiter.api.Test;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.net.URI;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackupConfigTest {

    private static BackupConfig parse(String yaml) {
        return BackupConfig.parse(new YAMLMapper().readTree(yaml).path("backup"));
    }

    private static final String MINIMAL = """
            backup:
              endpoint: https://s3.example.com
              bucket: b
              access_key: AK
              secret_key: SK
            """;

    @Test
    void aMinimalSectionTakesTheDefaults() {
        var c = parse(MINIMAL);
        assertThat(c).isEqualTo(new BackupConfig(URI.create("https://s3.example.com"), "b", "us-east-1", "AK", "SK", "bhatti",
                1 << 20, List.of()));
        assertThat(c.toString()).doesNotContain("SK").contains("secretKey=***");
    }

    @Test
    void noSectionMeansNoBackups() {
        assertThat(BackupConfig.parse(new YAMLMapper().readTree("listen: 127.0.0.1:8080\n").path("backup"))).isNull();
        assertThat(parse("backup:\n")).isNull();
    }

    @Test
    void everySettingIsRead() {
        var c = parse("""
                backup:
                  endpoint: http://127.0.0.1:9000
                  bucket: backups
                  region: eu-central-1
                  access_key: secret:S3_KEY
                  secret_key: secret:S3_SECRET
                  prefix: team/bhatti/
                  chunk_size: 4M
                  schedule:
                    - {volume: data, cron: "0 3 * * *", retention: 7}
                    - {volume: db, user: alice, cron: "*/15 9-17 * * 1-5", retention: 96}
                """);
        assertThat(c.region()).isEqualTo("eu-central-1");
        assertThat(c.prefix()).isEqualTo("team/bhatti");
        assertThat(c.chunkSize()).isEqualTo(4 << 20);
        assertThat(c.schedule()).containsExactly(new BackupConfig.Schedule("data", "admin", "0 3 * * *", 7),
                new BackupConfig.Schedule("db", "alice", "*/15 9-17 * * 1-5", 96));
        assertThat(c.accessKey()).as("kept raw until resolved").isEqualTo("secret:S3_KEY");
        var creds = c.credentials(Map.of("S3_KEY", "AKIA1", "S3_SECRET", "shh")::get);
        assertThat(creds).isEqualTo(new BackupConfig.Credentials("AKIA1", "shh"));
        assertThat(creds.toString()).doesNotContain("shh");
        assertThatThrownBy(() -> c.credentials(Map.of("S3_KEY", "AKIA1")::get)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("backup.secret_key").hasMessageContaining("S3_SECRET");
    }

    @Test
    void chunkSizesInTheirUnits() {
        for (var e : Map.of("64K", 64 << 10, "512k", 512 << 10, "1M", 1 << 20, "16MiB", 16 << 20, "64M", 64 << 20, "1048576", 1 << 20).entrySet()) {
            assertThat(parse(MINIMAL + "  chunk_size: " + e.getKey() + "\n").chunkSize()).as(e.getKey()).isEqualTo(e.getValue());
        }
    }

    @Test
    void badValuesNameTheirKey() {
        var cases = Map.ofEntries(
                Map.entry("backup: [1]\n", "backup must be a mapping"),
                Map.entry("backup:\n  bucket: b\n  access_key: a\n  secret_key: s\n", "backup.endpoint is required"),
                Map.entry(MINIMAL.replace("https://s3.example.com", "ftp://x"), "backup.endpoint must be an http(s) URL"),
                Map.entry(MINIMAL.replace("https://s3.example.com", "not a url"), "backup.endpoint"),
                Map.entry(MINIMAL.replace("  bucket: b\n", ""), "backup.bucket is required"),
                Map.entry(MINIMAL.replace("  secret_key: SK\n", ""), "backup.secret_key is required"),
                Map.entry(MINIMAL + "  s3_endpoint: x\n", "backup.s3_endpoint is not a setting"),
                Map.entry(MINIMAL + "  prefix: ../up\n", "backup.prefix"),
                Map.entry(MINIMAL + "  chunk_size: 32K\n", "backup.chunk_size"),
                Map.entry(MINIMAL + "  chunk_size: 128M\n", "backup.chunk_size"),
                Map.entry(MINIMAL + "  chunk_size: 100000\n", "backup.chunk_size"),
                Map.entry(MINIMAL + "  chunk_size: lots\n", "backup.chunk_size"),
                Map.entry(MINIMAL + "  schedule: {volume: v}\n", "backup.schedule must be a list"),
                Map.entry(MINIMAL + "  schedule: [{cron: '0 3 * * *', retention: 1}]\n", "backup.schedule[0].volume is required"),
                Map.entry(MINIMAL + "  schedule: [{volume: ../v, cron: '0 3 * * *', retention: 1}]\n", "backup.schedule[0].volume"),
                Map.entry(MINIMAL + "  schedule: [{volume: v, retention: 1}]\n", "backup.schedule[0].cron is required"),
                Map.entry(MINIMAL + "  schedule: [{volume: v, cron: '0 3 * *', retention: 1}]\n", "backup.schedule[0].cron must be 5 fields"),
                Map.entry(MINIMAL + "  schedule: [{volume: v, cron: '61 3 * * *', retention: 1}]\n", "backup.schedule[0].cron"),
                Map.entry(MINIMAL + "  schedule: [{volume: v, cron: '0 3 * * *'}]\n", "backup.schedule[0].retention must be"),
                Map.entry(MINIMAL + "  schedule: [{volume: v, cron: '0 3 * * *', retention: 0}]\n", "backup.schedule[0].retention"),
                Map.entry(MINIMAL + "  schedule: [{volume: v, cron: '0 3 * * *', retention: two}]\n", "backup.schedule[0].retention"),
                Map.entry(MINIMAL + "  schedule: [{volume: v, cron: '0 3 * * *', retention: 1, keep: 2}]\n", "backup.schedule[0].keep is not a setting"));
        cases.forEach((yaml, message) -> assertThatThrownBy(() -> parse(yaml)).as(yaml)
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message));
    }
}

package dev.bhatti.server;

import dev.bhatti.server.store.EventRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** Guessing keys is bounded per address: after the burst, 429 instead of 401, and no more events. */
class AuthFloodTest {

    @TempDir Path dataDir;

    @Test
    void failedAuthenticationsFromOneAddressAreLimitedAndGoodKeysStillWork() throws Exception {
        Files.writeString(dataDir.resolve("config.yaml"), "rate_limits:\n  auth_failure: {burst: 5, per_minute: 6}\n");
        var daemon = new Daemon(ServerConfig.load(dataDir, "127.0.0.1:0"));
        daemon.start(dataDir.resolve("cli.yaml"), null);
        try {
            var http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + daemon.port();
            String key = Files.readString(dataDir.resolve("admin-api-key")).strip();
            int unauthorized = 0, limited = 0;
            HttpResponse<String> last = null;
            for (int i = 0; i < 12; i++) {
                last = http.send(HttpRequest.newBuilder(URI.create(base + "/sandboxes")).header("Authorization", "Bearer bht_" + "2".repeat(64))
                        .build(), HttpResponse.BodyHandlers.ofString());
                if (last.statusCode() == 401) unauthorized++;
                if (last.statusCode() == 429) limited++;
            }
            assertThat(unauthorized).isEqualTo(5);
            assertThat(limited).isEqualTo(7);
            assertThat(last.headers().firstValue("Retry-After")).isPresent();
            var good = http.send(HttpRequest.newBuilder(URI.create(base + "/sandboxes")).header("Authorization", "Bearer " + key).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(good.statusCode()).as("a valid key is not locked out").isEqualTo(200);
            try (var store = dev.bhatti.server.store.SqliteStore.open(dataDir.resolve("state.db"))) {
                assertThat(store.events(new EventRecord.Filter("auth.failed", "", "", Instant.EPOCH, 100))).as("the log stops growing").hasSize(5);
            }
        } finally {
            daemon.close();
        }
    }
}

package dev.bhatti.server;

import dev.bhatti.server.secrets.SecretBox;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the daemon refuses at start, rather than run in a state that loses data. */
class DaemonStartTest {

    @TempDir Path dataDir;

    @Test
    void aMissingSecretsKeyWithStoredSecretsStopsTheDaemonWithAnExplanation() throws Exception {
        var daemon = new Daemon(ServerConfig.load(dataDir, "127.0.0.1:0"));
        daemon.start(dataDir.resolve("cli.yaml"), null);
        String key = Files.readString(dataDir.resolve("admin-api-key")).strip();
        var r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + daemon.port() + "/secrets"))
                .header("Authorization", "Bearer " + key).POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"K\",\"value\":\"v\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(201);
        daemon.close();

        Files.move(dataDir.resolve(SecretBox.KEY_FILE), dataDir.resolve("elsewhere.key"));
        var again = new Daemon(ServerConfig.load(dataDir, "127.0.0.1:0"));
        try {
            assertThatThrownBy(() -> again.start(dataDir.resolve("cli.yaml"), null))
                    .hasMessageContaining(SecretBox.KEY_FILE + " is missing").hasMessageContaining("1 secret(s)");
        } finally {
            again.close();
        }
        assertThat(dataDir.resolve(SecretBox.KEY_FILE)).as("no new key was made").doesNotExist();
        Files.move(dataDir.resolve("elsewhere.key"), dataDir.resolve(SecretBox.KEY_FILE));
        var restored = new Daemon(ServerConfig.load(dataDir, "127.0.0.1:0"));
        restored.start(dataDir.resolve("cli.yaml"), null); // the restored key works again
        restored.close();
    }
}

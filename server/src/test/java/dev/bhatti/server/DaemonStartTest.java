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
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

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

    /**
     * Everything under the data dir is the daemon's alone: what an older version or a shell redirect left
     * readable is fixed at start, and what the daemon creates (state.db and its WAL, keys, directories)
     * is born private. A symbolic link's target is left alone.
     */
    @Test
    void theDataDirBecomesAndStaysPrivate() throws Exception {
        Path sandboxDir = Files.createDirectories(dataDir.resolve("sandboxes/aaaa000000000001"));
        Path memory = Files.writeString(sandboxDir.resolve("memory.zst"), "guest memory");
        Path log = Files.writeString(dataDir.resolve("daemon.log"), "a log");
        Path outside = Files.writeString(Files.createTempFile("bhatti-link-target", ".txt"), "not ours");
        try {
            Files.setPosixFilePermissions(outside, PosixFilePermissions.fromString("rw-r--r--"));
            Files.createSymbolicLink(dataDir.resolve("images-link"), outside);
            for (Path p : List.of(memory, log)) Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
            for (Path d : List.of(dataDir, sandboxDir)) Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));

            var daemon = new Daemon(ServerConfig.load(dataDir, "127.0.0.1:0"));
            daemon.start(dataDir.resolve("cli.yaml"), null);
            try {
                Files.writeString(sandboxDir.resolve("console.log"), "written after the start");
                try (var all = Files.walk(dataDir)) {
                    List<String> open = all.filter(p -> !Files.isSymbolicLink(p))
                            .filter(p -> permissions(p).stream().anyMatch(x -> !x.name().startsWith("OWNER")))
                            .map(p -> dataDir.relativize(p) + " " + PosixFilePermissions.toString(permissions(p)))
                            .toList();
                    assertThat(open).as("entries readable by others").isEmpty();
                }
                assertThat(dataDir.resolve("state.db")).exists();
                assertThat(Files.getPosixFilePermissions(outside)).as("a link's target is not ours to change")
                        .isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
            } finally {
                daemon.close();
            }
        } finally {
            Files.deleteIfExists(outside);
        }
    }

    private static java.util.Set<java.nio.file.attribute.PosixFilePermission> permissions(Path p) {
        try {
            return Files.getPosixFilePermissions(p, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}

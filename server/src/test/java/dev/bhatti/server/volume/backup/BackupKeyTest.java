package dev.bhatti.server.volume.backup;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackupKeyTest {

    @TempDir Path dir;

    @Test
    void theKeyFileIsCreatedPrivateOnFirstUseAndReusedAfter() throws Exception {
        var key = BackupKey.open(dir);
        Path file = dir.resolve(BackupKey.KEY_FILE);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        String text = Files.readString(file);
        assertThat(text).contains("# public key: age1").containsPattern("(?m)^AGE-SECRET-KEY-1[0-9A-Z]+$");
        byte[] data = "chunk".getBytes(StandardCharsets.UTF_8);
        byte[] sealed = key.encrypt(data);
        assertThat(new String(sealed, StandardCharsets.ISO_8859_1)).startsWith("age-encryption.org/v1").doesNotContain("chunk");

        var again = BackupKey.open(dir);
        assertThat(Files.readString(file)).as("not rewritten").isEqualTo(text);
        assertThat(again.decrypt(sealed)).isEqualTo(data);
        assertThat(again.chunkId(data, 0, data.length)).as("ids survive a restart, or nothing would dedupe")
                .isEqualTo(key.chunkId(data, 0, data.length)).matches("[0-9a-f]{64}");
    }

    @Test
    void chunkIdsAreKeyedSoTheStoreCannotTestAGuess() throws Exception {
        byte[] zerosAndMore = new byte[4096];
        var a = BackupKey.open(Files.createDirectory(dir.resolve("a")));
        var b = BackupKey.open(Files.createDirectory(dir.resolve("b")));
        String plainSha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(zerosAndMore));
        assertThat(a.chunkId(zerosAndMore, 0, 4096)).isNotEqualTo(b.chunkId(zerosAndMore, 0, 4096)).isNotEqualTo(plainSha);
        assertThat(a.chunkId(zerosAndMore, 0, 4096)).isNotEqualTo(a.chunkId(zerosAndMore, 0, 4095));
    }

    @Test
    void anotherKeyCannotDecrypt() throws Exception {
        var a = BackupKey.open(Files.createDirectory(dir.resolve("a")));
        var b = BackupKey.open(Files.createDirectory(dir.resolve("b")));
        byte[] sealed = a.encrypt(new byte[100]);
        assertThatThrownBy(() -> b.decrypt(sealed)).isInstanceOf(java.security.GeneralSecurityException.class);
        Files.writeString(dir.resolve("a").resolve(BackupKey.KEY_FILE), "garbage\n");
        assertThatThrownBy(() -> BackupKey.open(dir.resolve("a"))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(BackupKey.KEY_FILE);
    }
}

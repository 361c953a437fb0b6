package dev.bhatti.server;

import dev.bhatti.server.secrets.SecretBox;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SecretBoxTest {

    @TempDir Path dir;

    @Test
    void valuesRoundTripThroughAgeAndTheKeyIsPrivateAndReused() throws Exception {
        var box = SecretBox.open(dir, 0);
        Path key = dir.resolve(SecretBox.KEY_FILE);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(Files.readString(key)).containsIgnoringCase("age-secret-key-1").contains("# public key: age1");
        byte[] sealed = box.encrypt("hunter2 ü");
        assertThat(new String(sealed, StandardCharsets.ISO_8859_1)).startsWith("age-encryption.org/v1").doesNotContain("hunter2");
        assertThat(box.decrypt(sealed)).isEqualTo("hunter2 ü");
        assertThat(box.encrypt("hunter2 ü")).as("a fresh file key each time").isNotEqualTo(sealed);
        var again = SecretBox.open(dir, 1);
        assertThat(again.decrypt(sealed)).as("the same key after a restart").isEqualTo("hunter2 ü");
    }

    @Test
    void aMissingKeyWithStoredSecretsRefusesInsteadOfMakingANewOne() {
        assertThatThrownBy(() -> SecretBox.open(dir, 3)).hasMessageContaining("missing").hasMessageContaining("3 secret(s)")
                .hasMessageContaining("backup");
        assertThat(dir.resolve(SecretBox.KEY_FILE)).doesNotExist();
    }

    @Test
    void anotherKeyCannotReadAndSaysWhy() throws Exception {
        byte[] sealed = SecretBox.open(dir, 0).encrypt("v");
        Path other = Files.createDirectory(dir.resolve("other"));
        assertThatThrownBy(() -> SecretBox.open(other, 0).decrypt(sealed)).hasMessageContaining("cannot be decrypted");
        Files.writeString(dir.resolve(SecretBox.KEY_FILE), "garbage\n");
        assertThatThrownBy(() -> SecretBox.open(dir, 1)).isInstanceOf(IllegalStateException.class);
    }
}

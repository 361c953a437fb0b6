package dev.bhatti.server.secrets;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;

/**
 * Secret values encrypted at rest with age (X25519): each value is one age file for the daemon's own
 * recipient, whose identity lives in {@code <data>/secrets.key} (0600). Only ciphertext reaches the
 * store. A missing key while secrets are stored stops the daemon: a new key would orphan them all.
 */
public final class SecretBox {

    public static final String KEY_FILE = "secrets.key";

    private final AgeKey key;

    private SecretBox(AgeKey key) { this.key = key; }

    /**
     * Loads the key from the data directory, or creates it when nothing depends on an earlier one
     * ({@code storedSecrets} is 0). Throws with what to do when the key is missing but needed.
     */
    public static SecretBox open(Path dataDir, int storedSecrets) throws IOException {
        Path file = dataDir.resolve(KEY_FILE);
        if (!Files.exists(file)) {
            if (storedSecrets > 0) {
                throw new IllegalStateException(file + " is missing but " + storedSecrets + " secret(s) are stored, encrypted "
                        + "with it; restore the key file from your backup. Refusing to start: a new key would make them unreadable.");
            }
            return new SecretBox(AgeKey.create(file, "bhatti secrets key: back it up; without it stored secrets cannot be read"));
        }
        return new SecretBox(AgeKey.read(file));
    }

    public byte[] encrypt(String value) {
        try {
            return key.encrypt(value.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("encrypting a secret failed: " + e.getMessage(), e);
        }
    }

    public String decrypt(byte[] ciphertext) {
        try {
            return new String(key.decrypt(ciphertext), StandardCharsets.UTF_8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("a stored secret cannot be decrypted with " + KEY_FILE + " (was the key replaced?): "
                    + e.getMessage(), e);
        }
    }
}

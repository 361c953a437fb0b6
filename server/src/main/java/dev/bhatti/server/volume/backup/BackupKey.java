package dev.bhatti.server.volume.backup;

import dev.bhatti.server.secrets.AgeKey;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.HexFormat;

/**
 * The key of volume backups: an age X25519 pair in {@code <data>/backup.key} (0600, age-keygen's layout,
 * created on first use) that chunks and manifests are encrypted to, and a chunk-id key derived from it
 * (HKDF-SHA256, fixed label). Chunk ids are HMAC-SHA256(chunk-id key, plaintext): equal chunks still
 * dedupe, but the store cannot test a guess of the content against an id. Losing the file loses every
 * backup made with it; keep a copy away from the store.
 */
public final class BackupKey {

    public static final String KEY_FILE = "backup.key";
    private static final String HMAC = "HmacSHA256";

    private final AgeKey age;
    private final SecretKeySpec chunkIdKey;

    private BackupKey(AgeKey age) {
        this.age = age;
        this.chunkIdKey = new SecretKeySpec(age.deriveKey("bhatti volume backup chunk-id v1"), HMAC);
    }

    /** The key of {@code <dataDir>/backup.key}, created there on first use. */
    public static BackupKey open(Path dataDir) throws IOException {
        return new BackupKey(AgeKey.readOrCreate(dataDir.resolve(KEY_FILE),
                "bhatti backup key: keep a copy apart from the backups; without it no backup can be restored"));
    }

    byte[] encrypt(byte[] plaintext) throws GeneralSecurityException { return age.encrypt(plaintext); }

    byte[] encrypt(byte[] buf, int off, int len) throws GeneralSecurityException { return age.encrypt(buf, off, len); }

    byte[] decrypt(byte[] ciphertext) throws GeneralSecurityException { return age.decrypt(ciphertext); }

    /** The id of a chunk: HMAC-SHA256 of its plaintext, in hex. */
    String chunkId(byte[] buf, int off, int len) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(chunkIdKey);
            mac.update(buf, off, len);
            return HexFormat.of().formatHex(mac.doFinal());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}

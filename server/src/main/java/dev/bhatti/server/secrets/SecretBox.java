package dev.bhatti.server.secrets;

import com.exceptionfactory.jagged.RecipientStanzaReader;
import com.exceptionfactory.jagged.RecipientStanzaWriter;
import com.exceptionfactory.jagged.framework.stream.StandardDecryptingChannelFactory;
import com.exceptionfactory.jagged.framework.stream.StandardEncryptingChannelFactory;
import com.exceptionfactory.jagged.x25519.X25519KeyPairGenerator;
import com.exceptionfactory.jagged.x25519.X25519RecipientStanzaReaderFactory;
import com.exceptionfactory.jagged.x25519.X25519RecipientStanzaWriterFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.util.List;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

/**
 * Secret values encrypted at rest with age (X25519): each value is one age file for the daemon's own
 * recipient, whose identity lives in {@code <data>/secrets.key} (0600). Only ciphertext reaches the
 * store. A missing key while secrets are stored stops the daemon: a new key would orphan them all.
 */
public final class SecretBox {

    public static final String KEY_FILE = "secrets.key";

    private final RecipientStanzaWriter recipient;
    private final RecipientStanzaReader identity;

    private SecretBox(String identityKey, String recipientKey) throws GeneralSecurityException {
        this.recipient = X25519RecipientStanzaWriterFactory.newRecipientStanzaWriter(recipientKey);
        this.identity = X25519RecipientStanzaReaderFactory.newRecipientStanzaReader(identityKey);
    }

    /**
     * Loads the key from the data directory, or creates it when nothing depends on an earlier one
     * ({@code storedSecrets} is 0). Throws with what to do when the key is missing but needed.
     */
    public static SecretBox open(Path dataDir, int storedSecrets) throws IOException {
        Path file = dataDir.resolve(KEY_FILE);
        try {
            if (!Files.exists(file)) {
                if (storedSecrets > 0) {
                    throw new IllegalStateException(file + " is missing but " + storedSecrets + " secret(s) are stored, encrypted "
                            + "with it; restore the key file from your backup. Refusing to start: a new key would make them unreadable.");
                }
                return create(file);
            }
            var lines = Files.readAllLines(file, StandardCharsets.US_ASCII).stream().map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
            if (lines.size() != 1) throw new IllegalStateException(file + " must hold exactly one age identity (AGE-SECRET-KEY-1...)");
            String identity = lines.getFirst();
            String recipient = Files.readAllLines(file, StandardCharsets.US_ASCII).stream().map(String::strip)
                    .filter(l -> l.startsWith("# public key: ")).map(l -> l.substring("# public key: ".length())).findFirst()
                    .orElseThrow(() -> new IllegalStateException(file + " lacks its '# public key: age1...' line"));
            return new SecretBox(identity, recipient);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(file + " does not hold a valid age X25519 identity: " + e.getMessage(), e);
        }
    }

    private static SecretBox create(Path file) throws IOException, GeneralSecurityException {
        KeyPair pair = new X25519KeyPairGenerator().generateKeyPair();
        String identity = pair.getPrivate().toString();
        String recipient = pair.getPublic().toString();
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        // the layout of age-keygen's output, so that `age -d -i secrets.key` reads the same file
        Files.writeString(tmp, "# bhatti secrets key: back it up; without it stored secrets cannot be read\n"
                + "# public key: " + recipient + "\n" + identity + "\n", StandardCharsets.US_ASCII);
        try (var c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            c.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        return new SecretBox(identity, recipient);
    }

    public byte[] encrypt(String value) {
        var out = new ByteArrayOutputStream();
        try (WritableByteChannel sink = new StandardEncryptingChannelFactory().newEncryptingChannel(Channels.newChannel(out), List.of(recipient))) {
            sink.write(ByteBuffer.wrap(value.getBytes(StandardCharsets.UTF_8)));
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("encrypting a secret failed: " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    public String decrypt(byte[] ciphertext) {
        try (ReadableByteChannel source = new StandardDecryptingChannelFactory().newDecryptingChannel(
                Channels.newChannel(new ByteArrayInputStream(ciphertext)), List.of(identity))) {
            return new String(Channels.newInputStream(source).readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("a stored secret cannot be decrypted with " + KEY_FILE + " (was the key replaced?): "
                    + e.getMessage(), e);
        }
    }
}

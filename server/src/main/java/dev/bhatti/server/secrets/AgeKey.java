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
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.util.List;
import java.util.Locale;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * One age X25519 key pair kept in a file of age-keygen's layout ({@code # public key: age1...} then the
 * {@code AGE-SECRET-KEY-1...} line, mode 0600), so {@code age -d -i FILE} reads what it encrypts.
 * The daemon's secrets ({@link SecretBox}) and volume backups each have their own.
 */
public final class AgeKey {

    private static final String PUBLIC_KEY_PREFIX = "# public key: ";

    private final String identity;
    private final RecipientStanzaWriter recipient;
    private final RecipientStanzaReader reader;

    private AgeKey(String identity, String recipient) throws GeneralSecurityException {
        this.identity = identity;
        this.recipient = X25519RecipientStanzaWriterFactory.newRecipientStanzaWriter(recipient);
        this.reader = X25519RecipientStanzaReaderFactory.newRecipientStanzaReader(identity);
    }

    /** Reads an existing key file; IllegalStateException naming the file when it is not one. */
    public static AgeKey read(Path file) throws IOException {
        List<String> all = Files.readAllLines(file, StandardCharsets.US_ASCII);
        var lines = all.stream().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        if (lines.size() != 1) throw new IllegalStateException(file + " must hold exactly one age identity (AGE-SECRET-KEY-1...)");
        String recipient = all.stream().map(String::strip).filter(l -> l.startsWith(PUBLIC_KEY_PREFIX))
                .map(l -> l.substring(PUBLIC_KEY_PREFIX.length())).findFirst()
                .orElseThrow(() -> new IllegalStateException(file + " lacks its '# public key: age1...' line"));
        try {
            return new AgeKey(lines.getFirst(), recipient);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(file + " does not hold a valid age X25519 identity: " + e.getMessage(), e);
        }
    }

    /**
     * Writes a new key pair to {@code file} (0600, written to a temporary sibling, synced, then moved into
     * place, so a crash never leaves half a key). {@code comment} heads the file: say what the key protects.
     */
    public static AgeKey create(Path file, String comment) throws IOException {
        try {
            KeyPair pair = new X25519KeyPairGenerator().generateKeyPair();
            String identity = pair.getPrivate().toString();
            String recipient = pair.getPublic().toString();
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, "# " + comment + "\n" + PUBLIC_KEY_PREFIX + recipient + "\n" + identity + "\n", StandardCharsets.US_ASCII);
            try (var c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                c.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            return new AgeKey(identity, recipient);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("generating an age key failed: " + e.getMessage(), e);
        }
    }

    /** The file's key, created with {@code comment} when the file does not exist yet. */
    public static AgeKey readOrCreate(Path file, String comment) throws IOException {
        return Files.exists(file) ? read(file) : create(file, comment);
    }

    /** One age file for this key's recipient; a fresh file key each call. */
    public byte[] encrypt(byte[] plaintext) throws GeneralSecurityException {
        return encrypt(plaintext, 0, plaintext.length);
    }

    /** As {@link #encrypt(byte[])} for {@code len} bytes of {@code buf} from {@code off}. */
    public byte[] encrypt(byte[] buf, int off, int len) throws GeneralSecurityException {
        // age's payload: 64 KiB segments, each with a 16-byte tag; the header is ~200 bytes
        var out = new ByteArrayOutputStream(len + (len >> 12) + 512);
        try (WritableByteChannel sink = new StandardEncryptingChannelFactory().newEncryptingChannel(Channels.newChannel(out), List.of(recipient))) {
            ByteBuffer src = ByteBuffer.wrap(buf, off, len);
            while (src.hasRemaining()) sink.write(src);
        } catch (IOException e) {
            throw new GeneralSecurityException("age encryption failed: " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    /** The plaintext of an age file for this key; GeneralSecurityException when it is not one or was altered (age authenticates). */
    public byte[] decrypt(byte[] ciphertext) throws GeneralSecurityException {
        try (ReadableByteChannel source = new StandardDecryptingChannelFactory().newDecryptingChannel(
                Channels.newChannel(new ByteArrayInputStream(ciphertext)), List.of(reader))) {
            return Channels.newInputStream(source).readAllBytes();
        } catch (IOException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }

    /**
     * 32 bytes derived from the secret identity with HKDF-SHA256 (RFC 5869, one output block): a key for
     * another purpose, named by {@code label}, that reveals nothing of this one. The same file and label
     * always give the same bytes.
     */
    public byte[] deriveKey(String label) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec("bhatti age-key derivation".getBytes(StandardCharsets.US_ASCII), "HmacSHA256"));
            byte[] prk = mac.doFinal(identity.toUpperCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII)); // Bech32 is case-blind
            mac.init(new SecretKeySpec(prk, "HmacSHA256"));
            mac.update(label.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 1);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}

package dev.bhatti.server.tls;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.io.ByteArrayInputStream;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.util.ArrayList;
import java.util.Locale;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

/** PEM files of keys and certificate chains, as certbot, openssl and ACME clients write them. */
final class Pem {
    private Pem() {}

    /** A key and the chain that goes with it, leaf first. */
    record KeyAndChain(PrivateKey key, List<X509Certificate> chain) {
        KeyAndChain {
            if (chain.isEmpty()) throw new IllegalArgumentException("no certificate");
            chain = List.copyOf(chain);
        }

        X509Certificate leaf() { return chain.getFirst(); }
    }

    /** The first private key in PEM text: PKCS#8, or the older RSA / EC forms openssl writes. */
    static PrivateKey key(String pem) throws IOException {
        try (var parser = new PEMParser(new StringReader(pem))) {
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                var converter = new JcaPEMKeyConverter();
                if (o instanceof PrivateKeyInfo info) return converter.getPrivateKey(info);
                if (o instanceof PEMKeyPair pair) return converter.getKeyPair(pair).getPrivate();
            }
        }
        throw new IOException("no private key found (an encrypted key is not supported)");
    }

    private static final Pattern CERTIFICATE =
            Pattern.compile("-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\\s]+)-----END CERTIFICATE-----");

    /** Every certificate in PEM text, in file order; other blocks (a key, say) are skipped. */
    static List<X509Certificate> certificates(String pem) throws IOException {
        var certs = new ArrayList<X509Certificate>();
        try {
            var factory = CertificateFactory.getInstance("X.509");
            var m = CERTIFICATE.matcher(pem);
            while (m.find()) {
                byte[] der = Base64.getMimeDecoder().decode(m.group(1));
                certs.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der)));
            }
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException("not a PEM certificate: " + e.getMessage(), e);
        }
        if (certs.isEmpty()) throw new IOException("no certificate found");
        return certs;
    }

    /** Reads a key file and a chain file (they may be the same file), checking that they belong together. */
    static KeyAndChain read(Path keyFile, Path certFile) throws IOException {
        var pair = new KeyAndChain(key(Files.readString(keyFile, StandardCharsets.US_ASCII)), certificates(Files.readString(certFile, StandardCharsets.US_ASCII)));
        requireMatch(pair);
        return pair;
    }

    /** The DNS names a certificate is valid for: its subject alternative names (browsers ignore the CN), lower case. */
    static List<String> dnsNames(X509Certificate cert) {
        try {
            var names = cert.getSubjectAlternativeNames();
            if (names == null) return List.of();
            return names.stream().filter(n -> Integer.valueOf(2).equals(n.get(0)) && n.get(1) instanceof String)
                    .map(n -> ((String) n.get(1)).toLowerCase(Locale.ROOT)).toList();
        } catch (CertificateParsingException e) {
            return List.of();
        }
    }

    /**
     * Whether a certificate is valid for {@code name}, a host or a wildcard like {@code *.example.com}: one
     * of its names is that name, or a wildcard standing for the name's whole leftmost label (RFC 6125).
     */
    static boolean covers(X509Certificate cert, String name) {
        String n = name.toLowerCase(Locale.ROOT);
        int dot = n.indexOf('.');
        for (String san : dnsNames(cert)) {
            if (san.equals(n)) return true;
            if (san.startsWith("*.") && !n.startsWith("*") && dot > 0 && n.substring(dot).equals(san.substring(1))) return true;
        }
        return false;
    }

    /** A key that does not sign for the certificate's public key would fail every handshake. */
    static void requireMatch(KeyAndChain pair) throws IOException {
        try {
            String alg = pair.key().getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256with" + pair.key().getAlgorithm();
            var sign = Signature.getInstance(alg);
            sign.initSign(pair.key());
            byte[] probe = "bhatti".getBytes(StandardCharsets.US_ASCII);
            sign.update(probe);
            byte[] sig = sign.sign();
            var verify = Signature.getInstance(alg);
            verify.initVerify(pair.leaf().getPublicKey());
            verify.update(probe);
            if (!verify.verify(sig)) throw new IOException("the private key does not belong to the certificate");
        } catch (GeneralSecurityException e) {
            throw new IOException("the private key does not belong to the certificate (" + e.getMessage() + ")", e);
        }
    }

    /** A key pair: a private and a public key in one file (or an openssl "EC PRIVATE KEY" that holds both). */
    static KeyPair keyPair(Path file) throws IOException {
        PrivateKey priv = null;
        PublicKey pub = null;
        var converter = new JcaPEMKeyConverter();
        try (var parser = new PEMParser(Files.newBufferedReader(file, StandardCharsets.US_ASCII))) {
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                if (o instanceof PEMKeyPair pair && pair.getPublicKeyInfo() != null) return converter.getKeyPair(pair);
                if (o instanceof PrivateKeyInfo info) priv = converter.getPrivateKey(info);
                if (o instanceof SubjectPublicKeyInfo info) pub = converter.getPublicKey(info);
            }
        }
        if (priv == null || pub == null) throw new IOException(file + " does not hold a private and a public key");
        return new KeyPair(pub, priv);
    }

    /** Writes a key pair (PKCS#8 and X.509 public key) readable by its owner only; never replaces a file. */
    static void writeKeyPair(Path file, KeyPair pair) throws IOException {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, encode("PRIVATE KEY", pair.getPrivate().getEncoded()) + encode("PUBLIC KEY", pair.getPublic().getEncoded()),
                StandardCharsets.US_ASCII);
    }

    static String encode(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** Writes key and chain to one file, readable by its owner only, replacing it at once (tmp + rename). */
    static void write(Path file, KeyAndChain pair) throws IOException {
        var text = new StringBuilder(encode("PRIVATE KEY", pair.key().getEncoded()));
        try {
            for (X509Certificate c : pair.chain()) text.append(encode("CERTIFICATE", c.getEncoded()));
        } catch (CertificateEncodingException e) {
            throw new IOException(e);
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, text, StandardCharsets.US_ASCII);
        try (var ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}

package dev.bhatti.server.tls;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.security.GeneralSecurityException;

/**
 * The certificates the proxy's TLS listener presents: one per host name, picked by SNI, and a default
 * for names without one of their own (the provided certificate, or a self-signed placeholder while an
 * ACME certificate is on its way). Every change rebuilds the key store and reloads Jetty's SSL context:
 * new handshakes get the new certificates, open connections keep theirs.
 */
public final class ProxyCertificates {
    private static final Logger log = LoggerFactory.getLogger(ProxyCertificates.class);
    private static final char[] PASSWORD = "in-memory".toCharArray(); // the store never leaves this process
    static final String DEFAULT = "default";

    private final SslContextFactory.Server factory = new SslContextFactory.Server();
    private final Map<String, Pem.KeyAndChain> byName = new TreeMap<>();

    /** Starts with a self-signed certificate for {@code domain}: a listener always has something to present. */
    public ProxyCertificates(String domain) {
        byName.put(DEFAULT, selfSigned(domain));
        factory.setKeyStore(keyStore());
        factory.setKeyStorePassword(new String(PASSWORD));
        factory.setKeyManagerPassword(new String(PASSWORD));
        factory.setCertAlias(DEFAULT); // without SNI, or with a name nothing else covers
    }

    public SslContextFactory.Server factory() { return factory; }

    /** The certificate for names nothing else covers (a provided wildcard, say). */
    void setDefault(Pem.KeyAndChain pair) { change(DEFAULT, pair); }

    /** A host's own certificate; null removes it. */
    void set(String host, Pem.KeyAndChain pair) { change(host, pair); }

    synchronized Pem.KeyAndChain get(String host) { return byName.get(host); }

    private synchronized void change(String name, Pem.KeyAndChain pair) {
        if (pair == null) byName.remove(name);
        else byName.put(name, pair);
        KeyStore store = keyStore();
        try {
            if (factory.isStarted()) factory.reload(f -> f.setKeyStore(store));
            else factory.setKeyStore(store);
        } catch (Exception e) {
            throw new IllegalStateException("reloading the TLS certificates: " + e.getMessage(), e);
        }
        log.info("TLS certificate for {} {}", name, pair == null ? "removed" : "now " + pair.leaf().getSubjectX500Principal().getName()
                + " until " + pair.leaf().getNotAfter().toInstant());
    }

    private KeyStore keyStore() {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            for (var e : byName.entrySet()) {
                ks.setKeyEntry(e.getKey(), e.getValue().key(), PASSWORD, e.getValue().chain().toArray(X509Certificate[]::new));
            }
            return ks;
        } catch (Exception e) {
            throw new IllegalStateException("building the TLS key store: " + e.getMessage(), e);
        }
    }

    static KeyPair newKeyPair() {
        try {
            var gen = KeyPairGenerator.getInstance("EC");
            gen.initialize(new ECGenParameterSpec("secp256r1"));
            return gen.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A self-signed certificate for {@code domain} alone: browsers warn, nothing breaks. Not for the
     * wildcard, so that SNI never prefers it to a host's own certificate.
     */
    static Pem.KeyAndChain selfSigned(String domain) {
        try {
            KeyPair keys = newKeyPair();
            var name = new X500Name("CN=" + domain + ",O=bhatti placeholder");
            Instant now = Instant.now();
            var builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now.toEpochMilli()), Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration.ofDays(3650))), name, keys.getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.dNSName, domain)));
            var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate());
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(builder.build(signer));
            return new Pem.KeyAndChain(keys.getPrivate(), List.of(cert));
        } catch (Exception e) {
            throw new IllegalStateException("making a self-signed certificate: " + e.getMessage(), e);
        }
    }
}

package dev.bhatti.testkit;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The token service of the Docker registry token flow (what Docker Hub and ghcr.io run), on loopback:
 * {@code GET /token?service=...&scope=repository:NAME:ACTIONS} with one user's basic credentials answers a
 * JWT granting the scopes asked for, signed RS256 with a key whose self-signed certificate rides in the
 * {@code x5c} header; the registry trusts it through {@link #writeRootBundle}. Anything else is a 401.
 */
public final class TokenServer implements AutoCloseable {
    /** One request to the token endpoint: the user named ({@code ""} when none was), the scopes asked for, the answer's status. */
    public record Request(String user, List<String> scopes, int status) {}

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final String service;
    private final String issuer;
    private final String user;
    private final String password;
    private final KeyPair key;
    private final byte[] certificate;
    private final HttpServer http;
    private final List<Request> requests = new CopyOnWriteArrayList<>();

    public TokenServer(String service, String issuer, String user, String password) throws Exception {
        this.service = service;
        this.issuer = issuer;
        this.user = user;
        this.password = password;
        var gen = KeyPairGenerator.getInstance("RSA");
        gen.initialize(2048);
        key = gen.generateKeyPair();
        certificate = selfSigned(key, issuer);
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/token", this::token);
        http.start();
    }

    public String realm() { return "http://127.0.0.1:" + http.getAddress().getPort() + "/token"; }

    public String service() { return service; }

    public String issuer() { return issuer; }

    public String user() { return user; }

    public String password() { return password; }

    /** Every request so far, oldest first. */
    public List<Request> requests() { return List.copyOf(requests); }

    /** The certificate the registry checks tokens against ({@code rootcertbundle}), as PEM. */
    public Path writeRootBundle(Path file) throws IOException {
        String pem = "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(certificate)
                + "\n-----END CERTIFICATE-----\n";
        return Files.writeString(file, pem);
    }

    private void token(HttpExchange ex) throws IOException {
        try (ex) {
            var scopes = new ArrayList<String>();
            String query = ex.getRequestURI().getRawQuery();
            for (String param : query == null ? new String[0] : query.split("&")) {
                int eq = param.indexOf('=');
                if (eq > 0 && param.substring(0, eq).equals("scope")) scopes.add(URLDecoder.decode(param.substring(eq + 1), StandardCharsets.UTF_8));
            }
            String[] given = basic(ex.getRequestHeaders().getFirst("Authorization"));
            if (!given[0].equals(user) || !given[1].equals(password)) {
                requests.add(new Request(given[0], scopes, 401));
                ex.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"" + service + "\"");
                ex.sendResponseHeaders(401, -1);
                return;
            }
            byte[] body = JSON.writeValueAsBytes(Map.of("token", jwt(scopes), "expires_in", 300, "issued_at", Instant.now().toString()));
            requests.add(new Request(user, scopes, 200));
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
        } catch (GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    /** The user and password of a basic Authorization header; two empty strings when there is none. */
    private static String[] basic(String authorization) {
        if (authorization == null || !authorization.startsWith("Basic ")) return new String[] {"", ""};
        String pair = new String(Base64.getDecoder().decode(authorization.substring(6)), StandardCharsets.UTF_8);
        int colon = pair.indexOf(':');
        return colon < 0 ? new String[] {pair, ""} : new String[] {pair.substring(0, colon), pair.substring(colon + 1)};
    }

    private String jwt(List<String> scopes) throws GeneralSecurityException {
        var access = new ArrayList<Map<String, Object>>();
        for (String scope : scopes) { // repository:NAME:ACTION[,ACTION]; a name has no colon, a host:port is not in it
            String[] parts = scope.split(":");
            if (parts.length == 3) access.add(Map.of("type", parts[0], "name", parts[1], "actions", List.of(parts[2].split(","))));
        }
        long now = Instant.now().getEpochSecond();
        var header = Map.of("typ", "JWT", "alg", "RS256", "x5c", List.of(Base64.getEncoder().encodeToString(certificate)));
        var claims = Map.of("iss", issuer, "sub", user, "aud", service, "exp", now + 300, "nbf", now - 60, "iat", now,
                "jti", UUID.randomUUID().toString(), "access", access);
        var b64 = Base64.getUrlEncoder().withoutPadding();
        String signed = b64.encodeToString(JSON.writeValueAsBytes(header)) + "." + b64.encodeToString(JSON.writeValueAsBytes(claims));
        var rs256 = Signature.getInstance("SHA256withRSA");
        rs256.initSign(key.getPrivate());
        rs256.update(signed.getBytes(StandardCharsets.US_ASCII));
        return signed + "." + b64.encodeToString(rs256.sign());
    }

    private static byte[] selfSigned(KeyPair key, String name) throws Exception {
        var subject = new X500Name("CN=" + name);
        Instant now = Instant.now();
        var builder = new JcaX509v3CertificateBuilder(subject, BigInteger.valueOf(now.toEpochMilli()), Date.from(now.minus(Duration.ofHours(1))),
                Date.from(now.plus(Duration.ofDays(1))), subject, key.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        return builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(key.getPrivate())).getEncoded();
    }

    @Override
    public void close() {
        http.stop(0);
    }
}

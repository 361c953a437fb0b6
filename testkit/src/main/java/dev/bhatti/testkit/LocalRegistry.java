package dev.bhatti.testkit;

import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's docker-registry (the CNCF distribution registry) on loopback, its storage in a temp dir:
 * anonymous, behind an htpasswd file (basic auth) or behind a {@link TokenServer} (bearer tokens).
 */
public final class LocalRegistry implements AutoCloseable {
    public final int port;
    private final Process process;
    /** What skopeo pushes with ({@code user:password}); null when the registry is anonymous. */
    private final String pushCredentials;

    /** An anonymous registry: anyone pulls and pushes. */
    public LocalRegistry(Path dir) throws Exception {
        this(dir, "", null);
    }

    /** A registry that wants {@code user}'s password by basic auth for everything. */
    public static LocalRegistry withHtpasswd(Path dir, String user, String password) throws Exception {
        // htpasswd -B writes $2y$ bcrypt; the registry's Go bcrypt reads it
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        String hash = OpenBSDBCrypt.generate("2y", password.toCharArray(), salt, 5);
        Path file = Files.writeString(dir.resolve("htpasswd"), user + ":" + hash + "\n");
        return new LocalRegistry(dir, "auth: {htpasswd: {realm: test-registry, path: %s}}".formatted(file), user + ":" + password);
    }

    /** A registry that wants bearer tokens signed by {@code tokens}; skopeo pushes with its user's password. */
    public static LocalRegistry withTokenAuth(Path dir, TokenServer tokens) throws Exception {
        Path bundle = tokens.writeRootBundle(dir.resolve("token-root.pem"));
        return new LocalRegistry(dir, "auth: {token: {realm: %s, service: %s, issuer: %s, rootcertbundle: %s}}"
                .formatted(tokens.realm(), tokens.service(), tokens.issuer(), bundle), tokens.user() + ":" + tokens.password());
    }

    private LocalRegistry(Path dir, String authYaml, String pushCredentials) throws Exception {
        this.pushCredentials = pushCredentials;
        try (var s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path config = dir.resolve("registry.yml");
        Files.writeString(config, """
                version: 0.1
                log: {level: warn}
                storage: {filesystem: {rootdirectory: %s}}
                http: {addr: 127.0.0.1:%d}
                %s
                """.formatted(dir.resolve("storage"), port, authYaml));
        process = new ProcessBuilder("docker-registry", "serve", config.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("registry.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (var ignored = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("the registry did not start: " + log(dir), e);
                }
                Thread.sleep(50); // polling for the port, with a deadline
            }
        }
    }

    private static String log(Path dir) throws IOException {
        Path log = dir.resolve("registry.log");
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "(no log)";
    }

    /** Where images pushed as {@code repo:tag} are pulled from: {@code 127.0.0.1:<port>/repo:tag}. */
    public String reference(String repoAndTag) { return "127.0.0.1:" + port + "/" + repoAndTag; }

    /** Pushes an OCI layout's {@code latest} there with skopeo: one image, or an index with all its images. */
    public void push(Path ociLayout, String repoAndTag) throws Exception {
        var cmd = new ArrayList<>(List.of("skopeo", "copy", "--quiet", "--all", "--dest-tls-verify=false"));
        if (pushCredentials != null) cmd.addAll(List.of("--dest-creds", pushCredentials));
        cmd.addAll(List.of("oci:" + ociLayout + ":latest", "docker://127.0.0.1:" + port + "/" + repoAndTag));
        run(cmd);
    }

    public static void run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            process.waitFor(10, TimeUnit.SECONDS); // it writes its log into a dir about to be deleted
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

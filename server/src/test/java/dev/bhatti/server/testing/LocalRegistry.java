package dev.bhatti.server.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Debian's docker-registry (the CNCF distribution registry) on loopback, its storage in a temp dir. */
public final class LocalRegistry implements AutoCloseable {
    public final int port;
    private final Process process;

    public LocalRegistry(Path dir) throws Exception {
        try (var s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path config = dir.resolve("registry.yml");
        Files.writeString(config, """
                version: 0.1
                log: {level: warn}
                storage: {filesystem: {rootdirectory: %s}}
                http: {addr: 127.0.0.1:%d}
                """.formatted(dir.resolve("storage"), port));
        process = new ProcessBuilder("docker-registry", "serve", config.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("registry.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (var ignored = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                if (!process.isAlive() || System.nanoTime() > deadline) throw new IllegalStateException("the registry did not start", e);
                Thread.sleep(50); // polling for the port, with a deadline
            }
        }
    }

    /** Where images pushed as {@code repo:tag} are pulled from: {@code 127.0.0.1:<port>/repo:tag}. */
    public String reference(String repoAndTag) { return "127.0.0.1:" + port + "/" + repoAndTag; }

    /** Pushes an OCI layout's image there with skopeo. */
    public void push(Path ociLayout, String repoAndTag) throws Exception {
        run(List.of("skopeo", "copy", "--quiet", "--dest-tls-verify=false", "oci:" + ociLayout + ":latest",
                "docker://127.0.0.1:" + port + "/" + repoAndTag));
    }

    public static void run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }

    @Override
    public void close() {
        process.destroy();
    }
}

package dev.bhatti.server;

import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Daemon settings: {@code <data_dir>/config.yaml} if present, then command-line flags on top.
 * <pre>
 * listen: 127.0.0.1:8080
 * engine:
 *   accel: auto          # auto | kvm | tcg
 *   boot_timeout_sec: 120
 *   qemu_binary: qemu-system-x86_64
 * </pre>
 */
public record ServerConfig(Path dataDir, String host, int port, String accel, Duration bootTimeout, String qemuBinary) {

    public static final String DEFAULT_LISTEN = "127.0.0.1:8080";

    public static ServerConfig load(Path dataDir, String listenFlag) throws IOException {
        String listen = DEFAULT_LISTEN;
        String accel = "auto";
        long bootTimeout = 120;
        String qemu = "qemu-system-x86_64";
        Path file = dataDir.resolve("config.yaml");
        if (Files.exists(file)) {
            JsonNode root = new YAMLMapper().readTree(file.toFile());
            if (root != null && root.isObject()) {
                listen = root.path("listen").asString(listen);
                JsonNode engine = root.path("engine");
                accel = engine.path("accel").asString(accel);
                bootTimeout = engine.path("boot_timeout_sec").asLong(bootTimeout);
                qemu = engine.path("qemu_binary").asString(qemu);
            }
        }
        if (listenFlag != null) listen = listenFlag;
        int colon = listen.lastIndexOf(':');
        if (colon < 0) throw new IllegalArgumentException("listen must be HOST:PORT, got '" + listen + "'");
        int port;
        try {
            port = Integer.parseInt(listen.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("listen must be HOST:PORT, got '" + listen + "'");
        }
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port out of range in '" + listen + "'");
        if (bootTimeout < 1) throw new IllegalArgumentException("engine.boot_timeout_sec must be >= 1");
        return new ServerConfig(dataDir, listen.substring(0, colon), port, accel, Duration.ofSeconds(bootTimeout), qemu);
    }

    public ServerConfig withPort(int newPort) {
        return new ServerConfig(dataDir, host, newPort, accel, bootTimeout, qemuBinary);
    }

    public String url() {
        String h = host.isEmpty() || host.equals("0.0.0.0") ? "127.0.0.1" : host;
        return "http://" + (h.contains(":") ? "[" + h + "]" : h) + ":" + port;
    }
}

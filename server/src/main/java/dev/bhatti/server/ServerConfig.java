package dev.bhatti.server;

import dev.bhatti.server.net.NetworkConfig;
import dev.bhatti.server.net.PrivateRanges;
import dev.bhatti.server.net.Subnets;
import dev.bhatti.server.net.DefaultRoute;
import dev.bhatti.server.publish.DefaultProxy;
import dev.bhatti.server.publish.ProxyConfig;
import dev.bhatti.server.ratelimit.RateLimits;
import dev.bhatti.server.sandbox.ThermalManager;
import dev.bhatti.server.tls.TlsConfig;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.MissingNode;
import dev.bhatti.server.volume.backup.BackupConfig;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import dev.bhatti.engine.qemu.JailConfig;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * Daemon settings: {@code <data_dir>/config.yaml} if present, then command-line flags on top.
 * <pre>
 * listen: 127.0.0.1:8080
 * default_image: minimal   # what a create without --image boots (install.sh --tier sets it)
 * engine:
 *   accel: auto          # auto | kvm | tcg
 *   boot_timeout_sec: 120
 *   qemu_binary: qemu-system-x86_64
 *   jail: true           # each VM's QEMU in its own uid, chroot, cgroups and seccomp (BHATTI_JAIL=off overrides)
 *   memory_file: false   # true: new VMs keep their RAM in a file on the data disk (fast stop and start;
 *                        # guest memory writes slow down when the host's disk is busy: README, thermal states)
 * thermal:
 *   warm_after_sec: 30     # idle hot sandboxes pause (0 = never)
 *   cold_after_sec: 1800   # idle warm sandboxes go to disk (0 = never)
 *   tick_sec: 5
 * rate_limits:             # per user; burst 0 = unlimited
 *   create: {burst: 10, per_minute: 30}
 *   exec:   {burst: 30, per_minute: 600}
 *   read:   {burst: 60, per_minute: 1200}
 * proxy:                   # the public proxy for published ports; see ProxyConfig
 *   listen: 127.0.0.1:8081
 *   domain: sandbox.localhost
 *                          # without this section: on the API's port + 1, as http://ALIAS.localhost:PORT/
 *                          # (API on loopback) or http://ALIAS.<ip-dashed>.sslip.io:PORT/ (see DefaultProxy);
 *                          # proxy: {enabled: false} turns it off
 * network:                 # off by default; see NetworkConfig
 *   enabled: true
 *   pool: 10.200.0.0/16
 *   allow_private: [10.0.5.0/24]   # private ranges sandboxes may reach (all denied by default)
 * backup:                  # volume backups to an S3-compatible store; see BackupConfig and docs/volumes.md
 *   endpoint: https://s3.example.com
 *   bucket: bhatti-backups
 *   access_key: secret:S3_ACCESS_KEY   # a literal, or the admin user's secret of that name
 *   secret_key: secret:S3_SECRET_KEY
 *   schedule: [{volume: data, user: alice, cron: "0 3 * * *", retention: 7}]
 * </pre>
 */
public record ServerConfig(Path dataDir, String host, int port, String accel, Duration bootTimeout, String qemuBinary,
                           ThermalManager.Policy thermal, Map<RateLimits.Kind, RateLimits.Limit> rateLimits,
                           NetworkConfig network, ProxyConfig proxy, boolean jail, BackupConfig backup, boolean memoryFile,
                           String defaultImage) {

    public static final String DEFAULT_LISTEN = "127.0.0.1:8080";

    /** The settings of {@code <dataDir>/config.yaml} (if present) and the listen flag; nothing else is read. */
    public static ServerConfig load(Path dataDir, String listenFlag) throws IOException {
        Path file = dataDir.resolve("config.yaml");
        JsonNode root = Files.exists(file) ? new YAMLMapper().readTree(file.toFile()) : null;
        return fromTree(root, dataDir, listenFlag);
    }

    /**
     * The layered settings a daemon runs with: built-in defaults, then {@code systemFile} (normally
     * {@link #SYSTEM_CONFIG}; null for none), then {@code <data_dir>/config.yaml}, then the flags. The data
     * directory is the flag's, else the system file's {@code data_dir}, else {@link #DEFAULT_DATA_DIR}.
     * A file that cannot be read, is not YAML or holds a bad or unknown setting is refused with its
     * path, the line and the setting's name.
     */
    public static ServerConfig load(Path systemFile, Path dataDirFlag, String listenFlag) {
        ConfigFile system = systemFile == null ? ConfigFile.none(Path.of("(none)")) : ConfigFile.read(systemFile);
        checkKnown(system);
        JsonNode dataDirNode = system.tree().path("data_dir");
        if (!dataDirNode.isMissingNode() && (!dataDirNode.isString() || dataDirNode.asString().isBlank()
                || !Path.of(dataDirNode.asString()).isAbsolute())) {
            throw located(system, "data_dir", "data_dir must be an absolute path, got " + dataDirNode);
        }
        Path dataDir = (dataDirFlag != null ? dataDirFlag
                : dataDirNode.isMissingNode() ? Path.of(DEFAULT_DATA_DIR) : Path.of(dataDirNode.asString())).toAbsolutePath();
        Path local = dataDir.resolve("config.yaml");
        ConfigFile data = Files.exists(local) ? ConfigFile.read(local) : ConfigFile.none(local);
        checkKnown(data);
        if (data.tree().has("data_dir")) {
            throw located(data, "data_dir", "data_dir cannot be set in the data directory's own config.yaml; set it in "
                    + SYSTEM_CONFIG + " or with --data-dir");
        }
        var merged = ConfigFile.merge(system.tree(), data.tree());
        merged.remove("data_dir");
        try {
            return fromTree(merged, dataDir, listenFlag);
        } catch (IllegalArgumentException e) {
            // the later layer wins, so a bad value comes from it if it sets the key
            String key = ConfigFile.keyOf(e.getMessage()).orElse("");
            ConfigFile from = !key.isEmpty() && data.lineOf(key).isPresent() ? data : system.lineOf(key).isPresent() ? system : data;
            throw located(from, key, e.getMessage());
        }
    }

    /**
     * The data directory the installed daemon uses: {@code data_dir} of {@link #SYSTEM_CONFIG} if it sets one,
     * else {@link #DEFAULT_DATA_DIR}. For the commands that work on the data directory directly.
     */
    public static Path installedDataDir() {
        Path system = Path.of(SYSTEM_CONFIG);
        if (!Files.isReadable(system)) return Path.of(DEFAULT_DATA_DIR);
        JsonNode dir;
        try {
            dir = ConfigFile.read(system).tree().path("data_dir");
        } catch (IllegalArgumentException e) {
            return Path.of(DEFAULT_DATA_DIR); // the daemon refuses the file and says why; these commands need not
        }
        return dir.isString() && Path.of(dir.asString()).isAbsolute() ? Path.of(dir.asString()) : Path.of(DEFAULT_DATA_DIR);
    }

    /** Where the daemon's system-wide settings live. */
    public static final String SYSTEM_CONFIG = "/etc/bhatti/config.yaml";
    public static final String DEFAULT_DATA_DIR = "/var/lib/bhatti";
    private static final java.util.Set<String> KNOWN = java.util.Set.of("listen", "data_dir", "default_image", "engine", "thermal",
            "rate_limits", "proxy", "network", "backup", "metrics");
    private static final java.util.Set<String> KNOWN_ENGINE = java.util.Set.of("accel", "boot_timeout_sec", "qemu_binary",
            "jail", "memory_file");
    private static final java.util.Set<String> KNOWN_THERMAL = java.util.Set.of("warm_after_sec", "cold_after_sec", "tick_sec");

    /** A misspelt setting would otherwise be ignored without a word. */
    private static void checkKnown(ConfigFile file) {
        for (String key : file.tree().propertyNames()) {
            if (!KNOWN.contains(key)) throw located(file, key, "unknown setting '" + key + "' (known: " + String.join(", ", new java.util.TreeSet<>(KNOWN)) + ")");
        }
        checkKnown(file, "engine", KNOWN_ENGINE);
        checkKnown(file, "thermal", KNOWN_THERMAL);
    }

    private static void checkKnown(ConfigFile file, String section, java.util.Set<String> known) {
        JsonNode node = file.tree().path(section);
        if (!node.isObject()) return;
        for (String key : node.propertyNames()) {
            if (!known.contains(key)) {
                throw located(file, section + "." + key, "unknown setting '" + section + "." + key + "' (known: "
                        + String.join(", ", new java.util.TreeSet<>(known)) + ")");
            }
        }
    }

    private static IllegalArgumentException located(ConfigFile file, String key, String message) {
        return new IllegalArgumentException(file.path() + file.lineOf(key).map(l -> " line " + l).orElse("") + ": " + message);
    }

    private static ServerConfig fromTree(JsonNode root, Path dataDir, String listenFlag) {
        String listen = DEFAULT_LISTEN;
        String defaultImage = "minimal";
        String accel = "auto";
        long bootTimeout = 120;
        String qemu = "qemu-system-x86_64";
        boolean jail = true;
        boolean memoryFile = false;
        double warmAfter = 30, coldAfter = 1800, tick = 5;
        var rateLimits = new EnumMap<RateLimits.Kind, RateLimits.Limit>(RateLimits.DEFAULTS);
        NetworkConfig network = NetworkConfig.DISABLED;
        JsonNode proxySection = MissingNode.getInstance();
        BackupConfig backup = null;
        {
            if (root != null && root.isObject()) {
                listen = root.path("listen").asString(listen);
                JsonNode image = root.path("default_image");
                if (!image.isMissingNode()) {
                    if (!image.isString() || !image.asString().matches("[a-z0-9][a-z0-9._:/-]{0,199}")) {
                        throw new IllegalArgumentException("default_image must be an image name (a tier like minimal, or a pulled image), got " + image);
                    }
                    defaultImage = image.asString();
                }
                JsonNode engine = root.path("engine");
                accel = engine.path("accel").asString(accel);
                bootTimeout = (long) number(engine, "engine.boot_timeout_sec", bootTimeout);
                qemu = engine.path("qemu_binary").asString(qemu);
                JsonNode jailNode = engine.path("jail");
                if (!jailNode.isMissingNode() && !jailNode.isBoolean()) throw new IllegalArgumentException("engine.jail must be true or false");
                jail = jailNode.asBoolean(jail);
                JsonNode memoryFileNode = engine.path("memory_file");
                if (!memoryFileNode.isMissingNode() && !memoryFileNode.isBoolean()) throw new IllegalArgumentException("engine.memory_file must be true or false");
                memoryFile = memoryFileNode.asBoolean(memoryFile);
                JsonNode thermal = root.path("thermal");
                warmAfter = number(thermal, "thermal.warm_after_sec", warmAfter);
                coldAfter = number(thermal, "thermal.cold_after_sec", coldAfter);
                tick = number(thermal, "thermal.tick_sec", tick);
                network = network(root.path("network"));
                proxySection = root.path("proxy");
                backup = BackupConfig.parse(root.path("backup"));
                JsonNode limits = root.path("rate_limits");
                for (RateLimits.Kind kind : RateLimits.Kind.values()) {
                    JsonNode l = limits.path(kind.name().toLowerCase(Locale.ROOT));
                    if (l.isMissingNode()) continue;
                    var d = rateLimits.get(kind);
                    try {
                        rateLimits.put(kind, new RateLimits.Limit(l.path("burst").asLong(d.burst()), l.path("per_minute").asLong(d.perMinute())));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("rate_limits." + kind.name().toLowerCase(Locale.ROOT) + ": " + e.getMessage());
                    }
                }
            }
        }
        if (listenFlag != null) listen = listenFlag;
        var api = Listen.parse("listen", listen);
        int port = api.port();
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port out of range in '" + listen + "'");
        ProxyConfig proxy = proxy(proxySection, api);
        if (bootTimeout < 1) throw new IllegalArgumentException("engine.boot_timeout_sec must be >= 1");
        if (warmAfter < 0 || coldAfter < 0) throw new IllegalArgumentException("thermal.warm_after_sec and cold_after_sec must be >= 0");
        if (tick < 0.1) throw new IllegalArgumentException("thermal.tick_sec must be >= 0.1");
        var policy = new ThermalManager.Policy(millis(warmAfter), millis(coldAfter), millis(tick));
        return new ServerConfig(dataDir, api.host(), port, accel, Duration.ofSeconds(bootTimeout), qemu, policy,
                Map.copyOf(rateLimits), network, proxy, jail && JailConfig.allowedByEnvironment(), backup, memoryFile, defaultImage);
    }

    /** The {@code proxy:} section; without one, the default proxy beside the API; null when turned off. */
    private static ProxyConfig proxy(JsonNode p, Listen api) {
        if (p.isMissingNode() || p.isNull()) return DefaultProxy.forApi(api.host(), api.port(), DefaultRoute::address);
        if (!p.isObject()) throw new IllegalArgumentException("proxy must be a mapping");
        JsonNode enabled = p.path("enabled");
        if (!enabled.isMissingNode() && !enabled.isBoolean()) throw new IllegalArgumentException("proxy.enabled must be true or false");
        if (!enabled.asBoolean(true)) return null;
        var listen = Listen.parse("proxy.listen", p.path("listen").asString(""));
        int port = listen.port();
        int publicPort = p.path("public_port").asInt(port == 0 ? 80 : port);
        return new ProxyConfig(listen.host(), port, p.path("domain").asString(null), publicPort,
                Duration.ofMillis(Math.round(p.path("idle_timeout_sec").asDouble(30) * 1000)), tls(p.path("tls")), false);
    }

    private static TlsConfig tls(JsonNode t) {
        if (t.isMissingNode() || t.isNull()) return null;
        if (!t.isObject()) throw new IllegalArgumentException("proxy.tls must be a mapping");
        var listen = Listen.parse("proxy.tls.listen", t.path("listen").asString("0.0.0.0:443"));
        int port = listen.port();
        TlsConfig.Acme acme = null;
        JsonNode a = t.path("acme");
        if (!a.isMissingNode() && !a.isNull()) {
            if (!a.isObject()) throw new IllegalArgumentException("proxy.tls.acme must be a mapping");
            String directory = a.path("directory").asString("");
            try {
                acme = new TlsConfig.Acme(URI.create(directory), a.path("email").asString(null), path(a.path("ca_file")));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(e.getMessage().startsWith("proxy.") ? e.getMessage()
                        : "proxy.tls.acme.directory is not a URL: '" + directory + "'");
            }
        }
        return new TlsConfig(listen.host(), port, t.path("public_port").asInt(port == 0 ? 443 : port),
                path(t.path("cert_file")), path(t.path("key_file")), Duration.ofMillis(Math.round(t.path("reload_check_sec").asDouble(10) * 1000)), acme,
                t.path("api_host").asString(null));
    }

    /** A {@code HOST:PORT} setting, split at its last colon; {@code key} names it in the error. */
    private record Listen(String host, int port) {
        static Listen parse(String key, String value) {
            int colon = value.lastIndexOf(':');
            try {
                if (colon >= 0) return new Listen(value.substring(0, colon), Integer.parseInt(value.substring(colon + 1)));
            } catch (NumberFormatException e) {
                // reported below, as a missing colon is
            }
            throw new IllegalArgumentException(key + " must be HOST:PORT, got '" + value + "'");
        }
    }

    private static Path path(JsonNode n) {
        return n.isMissingNode() || n.isNull() || n.asString("").isEmpty() ? null : Path.of(n.asString());
    }

    private static NetworkConfig network(JsonNode n) {
        if (n.isMissingNode() || n.isNull()) return NetworkConfig.DISABLED;
        if (!n.isObject()) throw new IllegalArgumentException("network must be a mapping");
        boolean enabled = n.path("enabled").asBoolean(false);
        Subnets pool = Subnets.parse(n.path("pool").asString(NetworkConfig.DEFAULT_POOL));
        String netns = n.path("netns").isMissingNode() || n.path("netns").isNull() ? null : n.path("netns").asString();
        var upstreams = new ArrayList<InetSocketAddress>();
        JsonNode ups = n.path("dns_upstreams");
        if (!ups.isMissingNode() && !ups.isNull()) {
            if (!ups.isArray()) throw new IllegalArgumentException("network.dns_upstreams must be a list of IPv4[:port]");
            for (JsonNode u : ups) upstreams.add(NetworkConfig.upstream(u.asString()));
        }
        var allowPrivate = new ArrayList<String>();
        JsonNode allow = n.path("allow_private");
        if (!allow.isMissingNode() && !allow.isNull()) {
            if (!allow.isArray()) throw new IllegalArgumentException(PrivateRanges.KEY + " must be a list of IPv4 CIDRs, like [10.0.5.0/24]");
            for (JsonNode a : allow) {
                if (!a.isString()) throw new IllegalArgumentException(PrivateRanges.KEY + ": want IPv4 addresses or CIDRs like 10.0.5.0/24, got " + a);
                allowPrivate.add(a.asString());
            }
        }
        return new NetworkConfig(enabled, pool, netns, upstreams, PrivateRanges.of(allowPrivate));
    }

    /** A number setting; a value that is not one (say {@code 30s}) is refused rather than replaced by the default. */
    private static double number(JsonNode section, String key, double otherwise) {
        JsonNode n = section.path(key.substring(key.lastIndexOf('.') + 1));
        if (n.isMissingNode() || n.isNull()) return otherwise;
        if (!n.isNumber()) throw new IllegalArgumentException(key + " must be a number, got " + n);
        return n.asDouble();
    }

    private static Duration millis(double seconds) { return Duration.ofMillis(Math.round(seconds * 1000)); }

    public ServerConfig withPort(int newPort) {
        return new ServerConfig(dataDir, host, newPort, accel, bootTimeout, qemuBinary, thermal, rateLimits, network, proxy, jail, backup, memoryFile,
                defaultImage);
    }


    public String url() {
        String h = host.isEmpty() || host.equals("0.0.0.0") ? "127.0.0.1" : host;
        return "http://" + (h.contains(":") ? "[" + h + "]" : h) + ":" + port;
    }
}

package dev.bhatti.cli;

import dev.bhatti.server.Daemon;
import dev.bhatti.server.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Runs the daemon in the foreground. */
@Command(name = "serve", description = {"Run the bhatti daemon (HTTP API + VM engine) in the foreground.",
        "Settings, each layer over the one before: built-in defaults, " + ServerConfig.SYSTEM_CONFIG
                + ", <data dir>/config.yaml, then these flags. A bad setting stops the daemon, naming the file, line and key."},
        mixinStandardHelpOptions = true)
final class ServeCmd implements Callable<Integer> {
    @Option(names = "--data-dir", description = "State, images and VM files (default: data_dir of the config file, else "
            + ServerConfig.DEFAULT_DATA_DIR + ")")
    Path dataDir;

    @Option(names = "--listen", description = "HOST:PORT to serve the API on (default " + ServerConfig.DEFAULT_LISTEN + ")")
    String listen;

    @Option(names = "--config", paramLabel = "FILE|none",
            description = "System config file (default " + ServerConfig.SYSTEM_CONFIG + " when it exists; none: read no system file)")
    String config;

    @Option(names = "--cli-config", paramLabel = "FILE|none",
            description = "Where the first start writes the admin's CLI config (default: the invoking user's ~/.bhatti/config.yaml; "
                    + "none: only <data dir>/admin-api-key, as the installed service does)")
    String cliConfig;

    @Override
    public Integer call() throws Exception {
        ServerConfig settings;
        try {
            settings = ServerConfig.load(systemConfig(), dataDir, listen);
        } catch (IllegalArgumentException e) {
            throw new CliException("bhatti serve: " + e.getMessage());
        }
        var daemon = new Daemon(settings);
        Runtime.getRuntime().addShutdownHook(new Thread(daemon::close, "bhatti-shutdown"));
        String owner = System.getenv("BHATTI_CONFIG") == null ? CliConfig.sudoUser(System.getenv()).orElse(null) : null;
        if ("none".equals(cliConfig)) daemon.start(null, null);
        else if (cliConfig != null) daemon.start(Path.of(cliConfig), null);
        else daemon.start(CliConfig.file(System.getenv()), owner);
        daemon.join();
        return 0;
    }

    /** The file named by --config (which must exist), else the system file if there is one. */
    private Path systemConfig() {
        if ("none".equals(config)) return null;
        if (config != null) return Path.of(config);
        Path system = Path.of(ServerConfig.SYSTEM_CONFIG);
        return Files.exists(system) ? system : null;
    }
}

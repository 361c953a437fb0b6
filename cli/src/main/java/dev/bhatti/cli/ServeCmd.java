package dev.bhatti.cli;

import dev.bhatti.server.Daemon;
import dev.bhatti.server.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Runs the daemon in the foreground. */
@Command(name = "serve", description = "Run the bhatti daemon (HTTP API + VM engine) in the foreground.",
        mixinStandardHelpOptions = true)
final class ServeCmd implements Callable<Integer> {
    @Option(names = "--data-dir", description = "State, images and VM files (default /var/lib/bhatti)")
    Path dataDir = Path.of("/var/lib/bhatti");

    @Option(names = "--listen", description = "HOST:PORT to serve the API on (default " + ServerConfig.DEFAULT_LISTEN + ")")
    String listen;

    @Override
    public Integer call() throws Exception {
        var config = ServerConfig.load(dataDir.toAbsolutePath(), listen);
        var daemon = new Daemon(config);
        Runtime.getRuntime().addShutdownHook(new Thread(daemon::close, "bhatti-shutdown"));
        String owner = System.getenv("BHATTI_CONFIG") == null ? CliConfig.sudoUser(System.getenv()).orElse(null) : null;
        daemon.start(CliConfig.file(System.getenv()), owner);
        daemon.join();
        return 0;
    }
}

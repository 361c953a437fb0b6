package dev.bhatti.cli;

import picocli.CommandLine.Option;

import java.io.IOException;

/** Options every client command shares. */
final class ClientOptions {
    @Option(names = "--url", description = "API endpoint (default: BHATTI_URL, then the config file, then " + CliConfig.DEFAULT_URL + ")")
    String url;

    @Option(names = "--token", description = "API key (default: BHATTI_TOKEN, then the config file)")
    String token;

    @Option(names = "--json", description = "Print machine-readable JSON")
    boolean json;

    ApiClient client() throws CliException { return client(url, token); }

    /** A client of the daemon that {@code url} and {@code token} (either may be null) name, as every command finds it. */
    static ApiClient client(String url, String token) throws CliException {
        try {
            return new ApiClient(CliConfig.resolve(url, token, System.getenv()));
        } catch (IOException | RuntimeException e) {
            throw new CliException("cannot read " + CliConfig.file(System.getenv()) + ": " + e.getMessage());
        }
    }
}

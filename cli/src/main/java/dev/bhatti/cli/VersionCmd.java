package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.io.IOException;
import java.net.ConnectException;

/** The CLI's version, the daemon it talks to and that daemon's version. */
@Command(name = "version", description = "Show the CLI version, the API endpoint and the server's version.",
        mixinStandardHelpOptions = true)
final class VersionCmd implements Callable<Integer> {
    static final String VERSION = "0.1.0";

    @Mixin ClientOptions opts;

    @Override
    public Integer call() throws CliException {
        String url;
        try {
            url = CliConfig.resolve(opts.url, opts.token, System.getenv()).url();
        } catch (IOException | RuntimeException e) {
            throw new CliException("cannot read " + CliConfig.file(System.getenv()) + ": " + e.getMessage());
        }
        String server;
        try {
            var http = HttpTransport.forUrl(url, Duration.ofSeconds(2), Duration.ofSeconds(2));
            var r = http.exchange(new HttpTransport.Request("GET", URI.create(url + "/health"), Map.of(), null, null));
            r.body().close();
            server = r.header("X-Bhatti-Version").orElse("unknown (HTTP " + r.status() + ")");
        } catch (ConnectException e) {
            server = "unreachable (connection refused; is the daemon running? bhatti serve)";
        } catch (IOException | IllegalArgumentException e) {
            server = "unreachable (" + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server = "unreachable";
        }
        if (opts.json) {
            var n = ApiClient.JSON.createObjectNode();
            n.put("cli", VERSION);
            n.put("api_url", url);
            n.put("server", server);
            Output.json(n);
        } else {
            System.out.println("bhatti " + VERSION);
            System.out.println("api:    " + url);
            System.out.println("server: " + server);
        }
        return 0;
    }
}

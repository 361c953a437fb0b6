package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;

/** Saves the API endpoint and key after checking that they work. */
@Command(name = "setup", description = "Save the daemon URL and API key to ~/.bhatti/config.yaml (verified first).",
        mixinStandardHelpOptions = true)
final class SetupCmd implements Callable<Integer> {
    @Option(names = "--url", required = true, description = "API endpoint, e.g. http://127.0.0.1:8080") String url;
    @Option(names = "--token", required = true, description = "API key (bht_...)") String token;
    @Option(names = "--json", description = "Print machine-readable JSON") boolean json;

    @Override
    public Integer call() throws CliException, IOException {
        String clean = url.strip();
        if (!clean.matches("https?://[^\\s/]+(/.*)?")) throw new CliException("--url must start with http:// or https://");
        var config = new CliConfig(clean.replaceAll("/+$", ""), token.strip());
        // An authenticated call: /health would accept any key.
        new ApiClient(config).get("/sandboxes");
        Path file = CliConfig.file(System.getenv());
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, "api_url: " + config.url() + "\nauth_token: " + config.token() + "\n");
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        if (json) {
            System.out.println("{\"status\": \"ok\", \"config\": " + ApiClient.JSON.writeValueAsString(file.toString()) + "}");
        } else {
            System.out.println("✓ credentials verified; saved to " + file);
        }
        return 0;
    }
}

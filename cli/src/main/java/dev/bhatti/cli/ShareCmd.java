package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

import java.util.concurrent.Callable;
import java.util.Map;

/** A browser link to a shell in the sandbox, for people without the CLI or an API key. */
@Command(name = "share", mixinStandardHelpOptions = true,
        description = {"Print a link to a web shell in the sandbox: bhatti share dev",
                "Anyone with the link gets a shell (as uid 1000); a new link replaces the old one.",
                "--revoke ends the link and disconnects every page using it."})
final class ShareCmd implements Callable<Integer> {
    @Mixin ClientOptions opts;
    @Parameters(paramLabel = "SANDBOX", description = "Name or id") String sandbox;
    @Option(names = "--revoke", description = "Revoke the current link") boolean revoke;

    @Override
    public Integer call() throws CliException {
        String path = "/sandboxes/" + ApiClient.segment(sandbox) + "/shell-token";
        if (revoke) {
            opts.client().delete(path);
            if (opts.json) Output.json(ApiClient.JSON.createObjectNode().put("revoked", true));
            else System.out.println("the web shell link of " + sandbox + " is revoked; open pages were disconnected");
            return 0;
        }
        ApiClient client = opts.client();
        JsonNode r = client.post(path, Map.of()).body();
        // a daemon with a public https name for its API says so; otherwise it sees only its own address,
        // and the CLI knows the one it reached it by
        String base = client.config().url();
        String url = r.path("public").asBoolean(false) ? r.path("url").asString()
                : (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + r.path("path").asString();
        if (opts.json) {
            Output.json(ApiClient.JSON.createObjectNode().put("url", url).put("token", r.path("token").asString()));
        } else {
            System.out.println("Shell: " + url);
            System.out.println("  anyone with this link gets a shell in " + sandbox + "; revoke it with: bhatti share " + sandbox + " --revoke");
        }
        return 0;
    }
}

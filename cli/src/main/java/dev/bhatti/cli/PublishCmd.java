package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.Callable;

/** Publishing sandbox ports at public URLs served by the daemon's proxy. */
final class PublishCmd {
    private PublishCmd() {}

    @Command(name = "publish", mixinStandardHelpOptions = true,
            description = {"Publish a sandbox port at a public URL: bhatti publish dev -p 3000 [--alias web]",
                    "Anyone with the URL reaches the port (no API key); a warm or cold sandbox wakes on the first request.",
                    "Without -p: lists the sandbox's published ports."})
    static final class Publish implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "SANDBOX", description = "Name or id") String sandbox;
        @Option(names = {"-p", "--port"}, description = "Guest port to publish") Integer port;
        @Option(names = {"-a", "--alias"}, description = "Host name label: <alias>.<proxy domain> (default: the sandbox name plus 6 hex)")
        String alias;

        @Override
        public Integer call() throws CliException {
            String base = "/sandboxes/" + ApiClient.segment(sandbox) + "/publish";
            if (port == null) {
                if (alias != null) throw new CliException("--alias needs -p PORT");
                JsonNode list = opts.client().get(base).body();
                if (opts.json) {
                    Output.json(list);
                    return 0;
                }
                var rows = new ArrayList<List<String>>();
                for (JsonNode r : list) rows.add(List.of(Output.text(r, "port"), Output.text(r, "alias"), url(r)));
                if (rows.isEmpty()) System.out.println("nothing published; publish a port with: bhatti publish " + sandbox + " -p PORT");
                else Output.table(List.of("PORT", "ALIAS", "URL"), rows);
                return 0;
            }
            var body = new LinkedHashMap<String, Object>();
            body.put("port", port);
            if (alias != null) body.put("alias", alias);
            var reply = opts.client().post(base, body);
            JsonNode r = reply.body();
            if (opts.json) {
                Output.json(r);
            } else {
                System.out.println((reply.existing() ? "already published: " : "published: ") + sandbox + ":" + port + " at " + url(r));
                String cert = r.path("certificate").asString("ready");
                if (cert.equals("pending")) {
                    System.out.println("  its TLS certificate is still being issued; the URL works once it is");
                } else if (cert.startsWith("failed")) {
                    System.err.println("bhatti: no TLS certificate yet for this name (" + cert + "); the daemon retries on the next publish"
                            + " of this port and every 12 hours: check that the CA can reach this server on port 80");
                }
            }
            return 0;
        }

        /** The URL, or why there is none (the daemon says; an older one does not). */
        private static String url(JsonNode r) {
            if (r.path("url").isString()) return r.path("url").asString();
            String why = r.path("url_unavailable").asString("no public proxy runs: set proxy.listen and proxy.domain in the daemon's config.yaml");
            return "no URL (" + why + "), alias " + Output.text(r, "alias");
        }
    }

    @Command(name = "unpublish", mixinStandardHelpOptions = true, description = "Stop publishing a sandbox port: bhatti unpublish dev -p 3000")
    static final class Unpublish implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "SANDBOX", description = "Name or id") String sandbox;
        @Option(names = {"-p", "--port"}, required = true, description = "Guest port to unpublish") int port;

        @Override
        public Integer call() throws CliException {
            opts.client().delete("/sandboxes/" + ApiClient.segment(sandbox) + "/publish/" + port);
            if (opts.json) Output.json(ApiClient.JSON.createObjectNode().put("unpublished", port));
            else System.out.println("unpublished " + sandbox + ":" + port);
            return 0;
        }
    }
}

package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** What reaches a sandbox from outside: its forwards and its published ports. */
@Command(name = "ports", description = "List a sandbox's forwards (host loopback ports) and published ports (public URLs).",
        mixinStandardHelpOptions = true)
final class PortsCmd implements Callable<Integer> {
    @Mixin ClientOptions opts;
    @Parameters(paramLabel = "SANDBOX", description = "Name or id") String sandbox;

    @Override
    public Integer call() throws CliException {
        ApiClient client = opts.client();
        String base = "/sandboxes/" + ApiClient.segment(sandbox);
        JsonNode forwards = client.get(base + "/forward").body();
        JsonNode published = client.get(base + "/publish").body();
        if (opts.json) {
            ObjectNode both = ApiClient.JSON.createObjectNode();
            both.set("forwards", forwards);
            both.set("published", published);
            Output.json(both);
            return 0;
        }
        var rows = new ArrayList<List<String>>();
        for (JsonNode f : forwards) rows.add(List.of("forward", Output.text(f, "guest_port"), Output.text(f, "host_addr")));
        for (JsonNode p : published) {
            String where = p.path("url").isString() ? p.path("url").asString() : "alias " + Output.text(p, "alias") + " (no URL: "
                    + p.path("url_unavailable").asString("no public domain") + ")";
            rows.add(List.of("published", Output.text(p, "port"), where));
        }
        if (rows.isEmpty()) System.out.println("no forwards or published ports; add one with: bhatti forward " + sandbox + " 8080:3000");
        else Output.table(List.of("KIND", "GUEST PORT", "REACHED AT"), rows);
        return 0;
    }
}

package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/** create, list, inspect and destroy. */
final class SandboxCommands {
    private SandboxCommands() {}

    @Command(name = "create", description = "Create a sandbox (a new VM) and wait until it answers.",
            mixinStandardHelpOptions = true)
    static final class Create extends CreateFlags implements Callable<Integer> {
        @Option(names = "--name", description = "Sandbox name (letters, digits, . _ -; default: generated)") String name;
        @Option(names = "--template", paramLabel = "NAME", description = "Start from template NAME (bhatti template list); the flags given override it")
        String template;
        @Option(names = "--from", paramLabel = "SANDBOX", description = {"Fork SANDBOX: start from its current memory, processes and disk",
                "(it goes on; its size, image, network and read-only volumes are the fork's; a read-write volume refuses the fork)"})
        String from;

        @Override
        public Integer call() throws CliException {
            var body = new LinkedHashMap<String, Object>();
            if (name != null) body.put("name", name);
            if (template != null) body.put("template", template);
            if (from != null) body.put("from", from);
            body.putAll(body());
            if (!opts.json && System.console() != null) System.err.println("creating sandbox" + (name == null ? "" : " " + name) + "...");
            var reply = opts.client().post("/sandboxes", body);
            // below the image's recommended size: it works, the user should know why it is slow
            for (JsonNode w : reply.body().path("warnings")) System.err.println("warning: " + w.asString());
            if (opts.json) {
                Output.json(reply.body());
            } else {
                JsonNode s = reply.body();
                if (reply.existing()) {
                    System.out.println("sandbox/" + Output.text(s, "name") + " unchanged (already exists, " + Output.text(s, "status") + ")");
                } else {
                    System.out.println("sandbox/" + Output.text(s, "name") + " created (" + Output.text(s, "cpus") + " vCPU, "
                            + Output.text(s, "memory_mb") + " MB, " + Output.text(s, "engine") + "/" + Output.text(s, "accelerator")
                            + (s.path("ip").isString() ? ", ip " + s.path("ip").asString() + ", egress " + Output.text(s, "egress") : "") + ")");
                    System.out.println("  run a command: bhatti exec " + Output.text(s, "name") + " -- uname -a");
                }
            }
            return 0;
        }
    }

    @Command(name = "list", aliases = "ls", description = "List your sandboxes.", mixinStandardHelpOptions = true)
    static final class ListCmd implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Option(names = {"-l", "--label"}, paramLabel = "KEY=VALUE", description = "Only sandboxes with this label (repeatable: all must match)")
        List<String> labels;

        @Override
        public Integer call() throws CliException {
            var query = new StringBuilder();
            if (labels != null) {
                for (var l : Labels.parse(labels).entrySet()) {
                    query.append(query.isEmpty() ? "?" : "&").append("label=").append(ApiClient.segment(l.getKey() + "=" + l.getValue()));
                }
            }
            JsonNode list = opts.client().get("/sandboxes" + query).body();
            if (opts.json) {
                Output.json(list);
                return 0;
            }
            var rows = new ArrayList<List<String>>();
            for (JsonNode s : list) {
                rows.add(List.of(Output.text(s, "name"), Output.text(s, "status"), Output.text(s, "thermal"), Output.text(s, "cpus"),
                        Output.text(s, "memory_mb") + "MB", Output.text(s, "ip"), Output.age(s.path("created_at").asString(""))));
            }
            if (rows.isEmpty() && labels != null) {
                System.out.println("no sandboxes with those labels");
            } else if (rows.isEmpty()) {
                System.out.println("no sandboxes; create one with: bhatti create --name dev");
            } else {
                Output.table(List.of("NAME", "STATUS", "THERMAL", "CPUS", "MEMORY", "IP", "AGE"), rows);
            }
            return 0;
        }
    }

    @Command(name = "inspect", aliases = "info", description = "Show one sandbox in detail.", mixinStandardHelpOptions = true)
    static final class Inspect implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "SANDBOX", description = "Name or id") String sandbox;

        @Override
        public Integer call() throws CliException {
            JsonNode s = opts.client().get("/sandboxes/" + ApiClient.segment(sandbox)).body();
            if (opts.json) {
                Output.json(s);
                return 0;
            }
            var rows = new ArrayList<List<String>>();
            for (String f : List.of("name", "id", "status", "thermal", "detail", "cpus", "memory_mb", "image", "engine", "accelerator", "ip", "egress",
                    "keep_hot", "disk_bytes", "created_at")) {
                String v = Output.text(s, f);
                if (f.equals("detail") && (v.isEmpty() || v.equals("-"))) continue;
                rows.add(List.of(f + ":", v));
            }
            rows.add(List.of("labels:", Labels.text(s)));
            rows.forEach(r -> System.out.printf("%-13s %s%n", r.get(0), r.get(1)));
            return 0;
        }
    }

    @Command(name = "destroy", aliases = "rm", description = "Destroy a sandbox: its VM and disk are deleted.",
            mixinStandardHelpOptions = true)
    static final class Destroy implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Option(names = {"-y", "--yes"}, description = "Do not ask for confirmation") boolean yes;
        @Parameters(paramLabel = "SANDBOX", description = "Name or id") String sandbox;

        @Override
        public Integer call() throws CliException {
            if (!Confirm.proceed(yes, "destroy " + sandbox, "destroy sandbox " + sandbox + "? this deletes its disk")) return 1;
            var reply = opts.client().delete("/sandboxes/" + ApiClient.segment(sandbox));
            if (opts.json) Output.json(reply.body());
            else System.out.println("sandbox/" + sandbox + " destroyed");
            return 0;
        }
    }
}

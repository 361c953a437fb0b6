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

/** Named snapshots: a sandbox's exact moment, kept and resumable as new sandboxes. */
@Command(name = "snapshot", description = {"Named snapshots: memory, processes and disk of a sandbox at one moment.",
        "Resume one as a new sandbox (any number of times) while the original goes on."},
        mixinStandardHelpOptions = true,
        subcommands = {SnapshotCmd.Create.class, SnapshotCmd.ListCmd.class, SnapshotCmd.Inspect.class, SnapshotCmd.Resume.class,
                SnapshotCmd.Delete.class})
final class SnapshotCmd {

    static String size(JsonNode s) {
        long bytes = s.path("size_bytes").asLong();
        return bytes >= 10L << 20 ? (bytes >> 20) + " MB" : String.format("%.1f MB", bytes / 1048576.0);
    }

    @Command(name = "create", description = {"Snapshot a sandbox; it stays hot, warm or cold as it was.",
            "A running one stands still while its memory is written (about a second per few hundred MB)."},
            mixinStandardHelpOptions = true)
    static final class Create implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "SANDBOX", description = "Name or id of the sandbox") String sandbox;
        @Option(names = "--name", required = true, description = "Snapshot name (letters, digits, . _ -)") String name;
        @Option(names = "--type", paramLabel = "memory|filesystem", description = {"memory (default): memory, processes and disk, resumed where it was;",
                "filesystem: the disk only (smaller, quicker), resumed as a fresh boot of it"}) String type;

        @Override
        public Integer call() throws CliException {
            if (!opts.json && System.console() != null) System.err.println("snapshotting " + sandbox + "...");
            var body = new LinkedHashMap<String, Object>();
            body.put("name", name);
            if (type != null) body.put("type", type);
            JsonNode s = opts.client().post("/sandboxes/" + ApiClient.segment(sandbox) + "/checkpoint", body).body();
            if (opts.json) Output.json(s);
            else {
                System.out.println("snapshot/" + Output.text(s, "name") + " created from " + Output.text(s, "source_sandbox") + " (" + s.path("type").asString("memory")
                        + ", " + size(s) + ")");
                System.out.println("  resume it as a new sandbox: bhatti snapshot resume " + Output.text(s, "name") + " --name NEW");
            }
            return 0;
        }
    }

    @Command(name = "list", aliases = "ls", description = "List your snapshots.", mixinStandardHelpOptions = true)
    static final class ListCmd implements Callable<Integer> {
        @Mixin ClientOptions opts;

        @Override
        public Integer call() throws CliException {
            JsonNode list = opts.client().get("/snapshots").body();
            if (opts.json) {
                Output.json(list);
                return 0;
            }
            var rows = new ArrayList<List<String>>();
            for (JsonNode s : list) {
                rows.add(List.of(Output.text(s, "name"), Output.text(s, "source_sandbox"), Output.text(s, "status"), Output.text(s, "type"), size(s),
                        Output.text(s, "cpus"), Output.text(s, "memory_mb") + "MB", Output.age(s.path("created_at").asString(""))));
            }
            if (rows.isEmpty()) System.out.println("no snapshots; take one with: bhatti snapshot create SANDBOX --name NAME");
            else Output.table(List.of("NAME", "SOURCE", "STATUS", "TYPE", "SIZE", "CPUS", "MEMORY", "AGE"), rows);
            return 0;
        }
    }

    @Command(name = "inspect", description = "Show one snapshot.", mixinStandardHelpOptions = true)
    static final class Inspect implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "SNAPSHOT", description = "Name or id") String snapshot;

        @Override
        public Integer call() throws CliException {
            JsonNode s = opts.client().get("/snapshots/" + ApiClient.segment(snapshot)).body();
            if (opts.json) {
                Output.json(s);
                return 0;
            }
            for (String f : List.of("name", "id", "type", "status", "source_sandbox", "source_sandbox_id", "cpus", "memory_mb", "image",
                    "size_bytes", "created_at")) {
                System.out.printf("%-18s %s%n", f + ":", Output.text(s, f));
            }
            return 0;
        }
    }

    @Command(name = "resume", description = {"Create a new sandbox from a snapshot's exact moment.",
            "It runs on from there with its own name, hostname and random state. The snapshot stays."},
            mixinStandardHelpOptions = true)
    static final class Resume implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "SNAPSHOT", description = "Name or id") String snapshot;
        @Option(names = "--name", description = "Name of the new sandbox (default: <snapshot>-<random>)") String name;

        @Override
        public Integer call() throws CliException {
            var body = new LinkedHashMap<String, Object>();
            if (name != null) body.put("name", name);
            if (!opts.json && System.console() != null) System.err.println("resuming " + snapshot + "...");
            JsonNode s = opts.client().post("/snapshots/" + ApiClient.segment(snapshot) + "/resume", body).body();
            if (opts.json) Output.json(s);
            else {
                System.out.println("sandbox/" + Output.text(s, "name") + " resumed from snapshot " + snapshot + " ("
                        + Output.text(s, "cpus") + " vCPU, " + Output.text(s, "memory_mb") + " MB)");
                System.out.println("  run a command: bhatti exec " + Output.text(s, "name") + " -- uname -a");
            }
            return 0;
        }
    }

    @Command(name = "delete", aliases = "rm", description = "Delete a snapshot and its files.", mixinStandardHelpOptions = true)
    static final class Delete implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Option(names = {"-y", "--yes"}, description = "Do not ask for confirmation") boolean yes;
        @Parameters(paramLabel = "SNAPSHOT", description = "Name or id") String snapshot;

        @Override
        public Integer call() throws CliException {
            if (!Confirm.proceed(yes, "delete snapshot " + snapshot, "delete snapshot " + snapshot + "?")) return 1;
            JsonNode r = opts.client().delete("/snapshots/" + ApiClient.segment(snapshot)).body();
            if (opts.json) Output.json(r);
            else System.out.println("snapshot/" + snapshot + " deleted");
            return 0;
        }
    }
}

package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** Volumes: data that outlives sandboxes. */
@Command(name = "volume", description = {"Volumes: ext4 file systems that outlive sandboxes.",
        "Attach one at create (bhatti create --volume NAME:/path[:ro]); it stays when the sandbox is destroyed."},
        mixinStandardHelpOptions = true,
        subcommands = {VolumeCmd.Create.class, VolumeCmd.ListCmd.class, VolumeCmd.Inspect.class, VolumeCmd.Resize.class,
                VolumeCmd.CloneCmd.class, VolumeCmd.Delete.class})
final class VolumeCmd {

    static String used(JsonNode v) {
        long bytes = v.path("used_bytes").asLong();
        return bytes >= 10L << 20 ? (bytes >> 20) + "M" : String.format("%.1fM", bytes / 1048576.0);
    }

    static String attachedTo(JsonNode v) {
        var parts = new ArrayList<String>();
        for (JsonNode a : v.path("attached_to")) {
            parts.add(a.path("sandbox").asString() + ":" + a.path("mount").asString() + (a.path("read_only").asBoolean() ? ":ro" : ""));
        }
        return parts.isEmpty() ? "-" : String.join(",", parts);
    }

    @Command(name = "create", description = "Create an empty volume (a sparse file: it takes disk space as it fills).",
            mixinStandardHelpOptions = true)
    static final class Create implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Option(names = "--name", required = true, description = "Volume name (letters, digits, . _ -)") String name;
        @Option(names = "--size", required = true, paramLabel = "SIZE", description = "Size, like 10G or 512M") String size;

        @Override
        public Integer call() throws CliException {
            JsonNode v = opts.client().post("/volumes", Map.of("name", name, "size_mb", SizeArg.mb(size, "--size"))).body();
            if (opts.json) Output.json(v);
            else {
                System.out.println("volume/" + Output.text(v, "name") + " created (" + SizeArg.human(v.path("size_mb").asLong()) + ")");
                System.out.println("  attach it: bhatti create --name NAME --volume " + Output.text(v, "name") + ":/data");
            }
            return 0;
        }
    }

    @Command(name = "list", aliases = "ls", description = "List your volumes.", mixinStandardHelpOptions = true)
    static final class ListCmd implements Callable<Integer> {
        @Mixin ClientOptions opts;

        @Override
        public Integer call() throws CliException {
            JsonNode list = opts.client().get("/volumes").body();
            if (opts.json) {
                Output.json(list);
                return 0;
            }
            var rows = new ArrayList<List<String>>();
            for (JsonNode v : list) {
                rows.add(List.of(Output.text(v, "name"), SizeArg.human(v.path("size_mb").asLong()), used(v), attachedTo(v),
                        Output.age(v.path("created_at").asString(""))));
            }
            if (rows.isEmpty()) System.out.println("no volumes; make one with: bhatti volume create --name data --size 10G");
            else Output.table(List.of("NAME", "SIZE", "USED", "ATTACHED-TO", "CREATED"), rows);
            return 0;
        }
    }

    @Command(name = "inspect", description = "Show one volume.", mixinStandardHelpOptions = true)
    static final class Inspect implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "VOLUME", description = "Volume name") String volume;

        @Override
        public Integer call() throws CliException {
            JsonNode v = opts.client().get("/volumes/" + ApiClient.segment(volume)).body();
            if (opts.json) {
                Output.json(v);
                return 0;
            }
            System.out.printf("%-14s %s%n", "name:", Output.text(v, "name"));
            System.out.printf("%-14s %s (%s MB)%n", "size:", SizeArg.human(v.path("size_mb").asLong()), Output.text(v, "size_mb"));
            System.out.printf("%-14s %s%n", "used:", used(v));
            System.out.printf("%-14s %s%n", "status:", Output.text(v, "status"));
            System.out.printf("%-14s %s%n", "source:", Output.text(v, "source"));
            System.out.printf("%-14s %s%n", "attached to:", attachedTo(v));
            System.out.printf("%-14s %s%n", "created:", Output.text(v, "created_at"));
            return 0;
        }
    }

    @Command(name = "resize", description = {"Grow a volume and its file system.", "Only while it is attached to no sandbox; volumes never shrink."},
            mixinStandardHelpOptions = true)
    static final class Resize implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "VOLUME", description = "Volume name") String volume;
        @Option(names = "--size", required = true, paramLabel = "SIZE", description = "New size, like 20G") String size;

        @Override
        public Integer call() throws CliException {
            JsonNode v = opts.client().post("/volumes/" + ApiClient.segment(volume) + "/resize", Map.of("size_mb", SizeArg.mb(size, "--size"))).body();
            if (opts.json) Output.json(v);
            else System.out.println("volume/" + Output.text(v, "name") + " resized to " + SizeArg.human(v.path("size_mb").asLong()));
            return 0;
        }
    }

    @Command(name = "clone", description = {"Copy a volume as it is now into a new one.",
            "Copy-on-write where the server's file system can; while a sandbox writes it, that sandbox stands still for the copy."},
            mixinStandardHelpOptions = true)
    static final class CloneCmd implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "VOLUME", description = "Volume to copy") String volume;
        @Option(names = "--name", required = true, description = "Name of the new volume") String name;

        @Override
        public Integer call() throws CliException {
            JsonNode v = opts.client().post("/volumes/" + ApiClient.segment(volume) + "/clone", Map.of("name", name)).body();
            if (opts.json) Output.json(v);
            else System.out.println("volume/" + Output.text(v, "name") + " created from " + volume + " (" + SizeArg.human(v.path("size_mb").asLong()) + ")");
            return 0;
        }
    }

    @Command(name = "delete", aliases = "rm", description = "Delete a volume and its data (it must be attached to no sandbox).",
            mixinStandardHelpOptions = true)
    static final class Delete implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Option(names = {"-y", "--yes"}, description = "Do not ask for confirmation") boolean yes;
        @Parameters(paramLabel = "VOLUME", description = "Volume name") String volume;

        @Override
        public Integer call() throws CliException {
            if (!Confirm.proceed(yes, "delete volume " + volume, "delete volume " + volume + " and all its data?")) return 1;
            JsonNode r = opts.client().delete("/volumes/" + ApiClient.segment(volume)).body();
            if (opts.json) Output.json(r);
            else System.out.println("volume/" + volume + " deleted");
            return 0;
        }
    }
}

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

/** Volumes: data that outlives sandboxes. */
@Command(name = "volume", description = {"Volumes: ext4 file systems that outlive sandboxes.",
        "Attach one at create (bhatti create --volume NAME:/path[:ro]); it stays when the sandbox is destroyed."},
        mixinStandardHelpOptions = true,
        subcommands = {VolumeCmd.Create.class, VolumeCmd.ListCmd.class, VolumeCmd.Inspect.class, VolumeCmd.Resize.class,
                VolumeCmd.CloneCmd.class, VolumeCmd.Delete.class, VolumeCmd.Backup.class, VolumeCmd.BackupList.class,
                VolumeCmd.Restore.class, VolumeCmd.BackupDelete.class})
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

    /** Runs a volume task to its end (or returns it at once with --detach); throws with the task's error. */
    static JsonNode runTask(ClientOptions opts, ApiClient client, JsonNode task, boolean detach, String what) throws CliException, InterruptedException {
        if (detach) return task;
        task = TaskFollow.follow(client, task, !opts.json && System.console() != null, "parts");
        String state = task.path("state").asString();
        if (!state.equals("done")) throw new CliException(what + " " + state + (task.has("error") ? ": " + task.path("error").asString() : ""));
        return task;
    }

    @Command(name = "backup", description = {"Back a volume up to the server's S3-compatible store (config.yaml: backup).",
            "Incremental and deduplicated (only chunks the store lacks are sent), encrypted before they leave the server;",
            "taken from a consistent state (a sandbox writing the volume stands still while it is copied)."},
            mixinStandardHelpOptions = true)
    static final class Backup implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "VOLUME", description = "Volume name") String volume;
        @Option(names = "--detach", description = "Return once the backup has started; follow it with GET /tasks/ID") boolean detach;

        @Override
        public Integer call() throws CliException, InterruptedException {
            ApiClient client = opts.client();
            JsonNode task = runTask(opts, client, client.post("/volumes/" + ApiClient.segment(volume) + "/backups", Map.of()).body(), detach,
                    "backup of " + volume);
            if (opts.json || detach) {
                if (opts.json) Output.json(task);
                else System.out.println("backing up " + volume + " as task " + task.path("id").asString());
                return 0;
            }
            String id = task.path("result").asString();
            JsonNode b = client.get("/volumes/" + ApiClient.segment(volume) + "/backups").body();
            for (JsonNode x : b) {
                if (x.path("id").asString().equals(id)) {
                    System.out.println("backup " + id + " of volume " + volume + " done: " + ImageCmd.size(x.path("uploaded_bytes").asLong())
                            + " uploaded (" + x.path("uploaded_chunks").asInt() + " of " + x.path("chunks").asInt() + " chunks new)");
                    return 0;
                }
            }
            System.out.println("backup " + id + " of volume " + volume + " done");
            return 0;
        }
    }

    @Command(name = "backup-list", description = "List a volume's backups, newest first.", mixinStandardHelpOptions = true)
    static final class BackupList implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "VOLUME", description = "Volume name (its backups are listed even once it is deleted)") String volume;

        @Override
        public Integer call() throws CliException {
            JsonNode list = opts.client().get("/volumes/" + ApiClient.segment(volume) + "/backups").body();
            if (opts.json) {
                Output.json(list);
                return 0;
            }
            var rows = new ArrayList<List<String>>();
            for (JsonNode b : list) {
                rows.add(List.of(Output.text(b, "id"), ImageCmd.size(b.path("size_bytes").asLong()), ImageCmd.size(b.path("uploaded_bytes").asLong()),
                        Output.age(b.path("created_at").asString(""))));
            }
            if (rows.isEmpty()) System.out.println("no backups of " + volume + "; take one with: bhatti volume backup " + volume);
            else Output.table(List.of("ID", "SIZE", "UPLOADED", "AGE"), rows);
            return 0;
        }
    }

    @Command(name = "restore", description = {"Restore a backup: into the volume itself (attached to no sandbox; its contents are replaced),",
            "or with --as into a new volume. Every chunk is verified; a damaged backup changes nothing."},
            mixinStandardHelpOptions = true)
    static final class Restore implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Parameters(paramLabel = "VOLUME", description = "The volume the backup was taken of") String volume;
        @Option(names = "--backup-id", required = true, paramLabel = "ID", description = "Which backup (bhatti volume backup-list VOLUME)") String id;
        @Option(names = "--as", paramLabel = "NAME", description = "Restore into a new volume of this name") String as;
        @Option(names = "--detach", description = "Return once the restore has started; follow it with GET /tasks/ID") boolean detach;

        @Override
        public Integer call() throws CliException, InterruptedException {
            ApiClient client = opts.client();
            var body = new LinkedHashMap<String, Object>();
            if (as != null) body.put("as", as);
            JsonNode task = runTask(opts, client, client.post("/volumes/" + ApiClient.segment(volume) + "/backups/" + ApiClient.segment(id)
                    + "/restore", body).body(), detach, "restore of " + id);
            if (opts.json) Output.json(task);
            else if (detach) System.out.println("restoring " + id + " as task " + task.path("id").asString());
            else System.out.println("volume/" + task.path("result").asString() + " restored from backup " + id);
            return 0;
        }
    }

    @Command(name = "backup-delete", description = "Delete a backup (chunks that newer backups use stay in the store).",
            mixinStandardHelpOptions = true)
    static final class BackupDelete implements Callable<Integer> {
        @Mixin ClientOptions opts;
        @Option(names = {"-y", "--yes"}, description = "Do not ask for confirmation") boolean yes;
        @Parameters(index = "0", paramLabel = "VOLUME", description = "Volume name") String volume;
        @Parameters(index = "1", arity = "0..1", paramLabel = "ID", description = "Backup id (or --backup-id)") String idArg;
        @Option(names = "--backup-id", paramLabel = "ID", description = "Backup id") String idOption;

        @Override
        public Integer call() throws CliException {
            String id = idOption != null ? idOption : idArg;
            if (id == null) throw new CliException("which backup? give its id (bhatti volume backup-list " + volume + ")");
            if (!Confirm.proceed(yes, "delete backup " + id, "delete backup " + id + " of volume " + volume + "?")) return 1;
            JsonNode r = opts.client().delete("/volumes/" + ApiClient.segment(volume) + "/backups/" + ApiClient.segment(id)).body();
            if (opts.json) Output.json(r);
            else System.out.println("backup " + id + " of volume " + volume + " deleted");
            return 0;
        }
    }
}

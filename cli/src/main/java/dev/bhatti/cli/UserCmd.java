package dev.bhatti.cli;

import dev.bhatti.server.auth.UserAdmin;
import dev.bhatti.server.store.UserRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Users and their API keys, administered on the server: these commands open the daemon's store in
 * the data directory directly (the daemon may be running), so they need no key, only access to it.
 */
@Command(name = "user", description = {"Users and API keys (run on the server; reads and writes the data directory).",
        "Every user sees only their own sandboxes, snapshots and secrets, within their limits."},
        mixinStandardHelpOptions = true,
        subcommands = {UserCmd.Create.class, UserCmd.ListCmd.class, UserCmd.RotateKey.class, UserCmd.Delete.class})
final class UserCmd {

    static ObjectNode json(UserRecord u, String key) {
        ObjectNode n = ApiClient.JSON.createObjectNode();
        n.put("id", u.id());
        n.put("name", u.name());
        n.put("max_sandboxes", u.maxSandboxes());
        n.put("max_cpus", u.maxCpus());
        n.put("max_memory_mb", u.maxMemoryMb());
        n.put("max_snapshots", u.maxSnapshots());
        n.put("max_storage_mb", u.maxStorageMb());
        n.put("created_at", u.createdAt().toString());
        if (key != null) n.put("api_key", key);
        return n;
    }

    static void printKey(UserAdmin.Issued issued) {
        System.out.println("api key (shown only now; the server keeps just its hash):");
        System.out.println("  " + issued.apiKey());
        System.out.println("  the user runs: bhatti setup --url http://SERVER:8080 --token " + issued.apiKey());
    }

    @Command(name = "create", description = "Create a user and print their API key once.", mixinStandardHelpOptions = true)
    static final class Create implements Callable<Integer> {
        @Mixin LocalStore local;
        @Option(names = "--name", required = true, description = "User name (letters, digits, . _ -)") String name;
        @Option(names = "--max-sandboxes", description = "Sandboxes at once (default 5)") int maxSandboxes = 5;
        @Option(names = "--max-cpus", description = "vCPUs over all their sandboxes (default 4)") int maxCpus = 4;
        @Option(names = "--max-memory", description = "MB of memory over all their sandboxes (default 4096)") int maxMemory = 4096;
        @Option(names = "--max-snapshots", description = "Named snapshots kept (default 5)") int maxSnapshots = 5;
        @Option(names = "--max-storage", description = "MB their snapshots and images may take on disk together (default 20480)") int maxStorage = 20_480;

        @Override
        public Integer call() throws CliException {
            var issued = local.open(store -> new UserAdmin(store).create(name, new UserAdmin.Quota(maxSandboxes, maxCpus, maxMemory, maxSnapshots, maxStorage)));
            if (local.json) {
                Output.json(json(issued.user(), issued.apiKey()));
                return 0;
            }
            UserRecord u = issued.user();
            System.out.println("user/" + u.name() + " created (" + u.id() + "): up to " + u.maxSandboxes() + " sandboxes, "
                    + u.maxCpus() + " vCPUs, " + u.maxMemoryMb() + " MB, " + u.maxSnapshots() + " snapshots ("
                    + u.maxStorageMb() + " MB)");
            printKey(issued);
            return 0;
        }
    }

    @Command(name = "list", aliases = "ls", description = "List users and their limits.", mixinStandardHelpOptions = true)
    static final class ListCmd implements Callable<Integer> {
        @Mixin LocalStore local;

        @Override
        public Integer call() throws CliException {
            List<UserRecord> users = local.open(store -> new UserAdmin(store).list());
            if (local.json) {
                var arr = ApiClient.JSON.createArrayNode();
                users.forEach(u -> arr.add(json(u, null)));
                Output.json(arr);
                return 0;
            }
            var rows = new ArrayList<List<String>>();
            for (UserRecord u : users) {
                rows.add(List.of(u.name(), u.id(), Integer.toString(u.maxSandboxes()), Integer.toString(u.maxCpus()),
                        u.maxMemoryMb() + "MB", Integer.toString(u.maxSnapshots()), Output.age(u.createdAt().toString())));
            }
            Output.table(List.of("NAME", "ID", "SANDBOXES", "CPUS", "MEMORY", "SNAPSHOTS", "AGE"), rows);
            return 0;
        }
    }

    @Command(name = "rotate-key", description = "Give a user a new API key; the old one stops working at once.",
            mixinStandardHelpOptions = true)
    static final class RotateKey implements Callable<Integer> {
        @Mixin LocalStore local;
        @Parameters(paramLabel = "USER", description = "User name") String name;

        @Override
        public Integer call() throws CliException {
            var issued = local.open(store -> new UserAdmin(store).rotateKey(name));
            if (local.json) {
                Output.json(json(issued.user(), issued.apiKey()));
                return 0;
            }
            System.out.println("user/" + name + ": new key issued; the old one no longer works");
            printKey(issued);
            return 0;
        }
    }

    @Command(name = "delete", aliases = "rm", description = "Delete a user who owns no sandboxes or snapshots.",
            mixinStandardHelpOptions = true)
    static final class Delete implements Callable<Integer> {
        @Mixin LocalStore local;
        @Option(names = {"-y", "--yes"}, description = "Do not ask for confirmation") boolean yes;
        @Parameters(paramLabel = "USER", description = "User name") String name;

        @Override
        public Integer call() throws CliException {
            if (!Confirm.proceed(yes, "delete user " + name, "delete user " + name + "? their key stops working")) return 1;
            UserRecord u = local.open(store -> new UserAdmin(store).delete(name));
            if (local.json) Output.json(json(u, null));
            else System.out.println("user/" + name + " deleted");
            return 0;
        }
    }
}

package dev.bhatti.cli;

import dev.bhatti.server.store.StoreBackup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import tools.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code bhatti admin backup --to FILE}: a consistent copy of the daemon's store, taken on the server
 * from the data directory while the daemon runs (SQLite's online backup), written 0600 and renamed into
 * place only when complete. The keys and the VM files are not in it: the README's "Operations" says what
 * else to keep.
 */
@Command(name = "backup", description = {"Copy the store (state.db) consistently while the daemon runs (on the server, as root).",
        "The copy holds users, sandboxes, snapshots, volumes, secrets (encrypted) and events;",
        "keep secrets.key, backup.key, volumes/ and images/ too (README: Operations)."},
        mixinStandardHelpOptions = true)
final class AdminBackupCmd implements Callable<Integer> {
    @Mixin LocalStore local;
    @Option(names = "--to", required = true, paramLabel = "FILE", description = "Where to write the copy (its directory must exist)") Path to;
    @Option(names = "--force", description = "Replace FILE if it exists") boolean force;

    @Override
    public Integer call() throws CliException {
        StoreBackup.Copy copy;
        try {
            copy = StoreBackup.copy(local.dataDir.resolve("state.db"), to, force);
        } catch (StoreBackup.BackupException e) {
            throw new CliException(e.getMessage());
        }
        if (local.json) {
            ObjectNode n = ApiClient.JSON.createObjectNode();
            n.put("file", copy.file().toString());
            n.put("bytes", copy.bytes());
            n.put("schema_version", copy.schemaVersion());
            ObjectNode rows = n.putObject("rows");
            copy.rows().forEach(rows::put);
            Output.json(n);
            return 0;
        }
        var rows = new ArrayList<String>();
        copy.rows().forEach((table, count) -> rows.add(count + " " + table));
        System.out.println(String.format(Locale.ROOT, "copied %s to %s (%.1f MB, schema %d: %s)", local.dataDir.resolve("state.db"), copy.file(),
                copy.bytes() / 1048576.0, copy.schemaVersion(), String.join(", ", rows)));
        System.out.println("not in it: " + local.dataDir.resolve("secrets.key") + " (without it no stored secret can be read), backup.key, "
                + "volumes/, images/ (see the README: Operations)");
        return 0;
    }
}

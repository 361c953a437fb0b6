package dev.bhatti.cli;

import dev.bhatti.server.auth.UserAdmin;
import dev.bhatti.server.store.SqliteStore;
import dev.bhatti.server.store.StoreException;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * Options of the commands that run on the server against the daemon's data directory (user, admin):
 * they open its database directly, so they need access to it rather than an API key.
 */
final class LocalStore {
    @Option(names = "--data-dir", description = "The daemon's data directory (default: data_dir of "
            + dev.bhatti.server.ServerConfig.SYSTEM_CONFIG + ", else /var/lib/bhatti)")
    Path dataDir = dev.bhatti.server.ServerConfig.installedDataDir();

    @Option(names = "--json", description = "Print machine-readable JSON") boolean json;

    /** Runs {@code query} on the store; refused administration requests become CLI errors. */
    <T> T open(Function<SqliteStore, T> query) throws CliException {
        Path db = dataDir.resolve("state.db");
        if (!Files.exists(db)) {
            throw new CliException("no bhatti state in " + dataDir + " (state.db is missing); "
                    + "pass the daemon's --data-dir, or start the daemon once to create it");
        }
        try (var store = SqliteStore.open(db)) {
            return query.apply(store);
        } catch (UserAdmin.UserAdminException e) {
            throw new CliException(e.getMessage());
        } catch (StoreException e) {
            throw new CliException(e.getMessage() + " (are you root, or the daemon's user?)");
        }
    }
}

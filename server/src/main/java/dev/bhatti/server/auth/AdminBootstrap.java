package dev.bhatti.server.auth;

import dev.bhatti.server.store.Store;
import dev.bhatti.server.store.UserRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Optional;
import java.nio.file.StandardCopyOption;

/**
 * On the first start with an empty store: creates the {@code admin} user, writes its key to
 * {@code <data>/admin-api-key} (0600) and, if the invoking user has no CLI config yet, writes
 * {@code ~/.bhatti/config.yaml} so that the CLI works right away.
 */
public final class AdminBootstrap {
    private static final Logger log = LoggerFactory.getLogger(AdminBootstrap.class);

    private AdminBootstrap() {}

    /** Returns the new key if an admin was created. */
    public static Optional<String> ensureAdmin(Store store, Path dataDir, String apiUrl, Path cliConfig, String owner)
            throws IOException {
        if (store.countUsers() > 0) return Optional.empty();
        String key = ApiKeys.generate();
        Path keyFile = dataDir.resolve("admin-api-key");
        writePrivate(keyFile, key + "\n");
        store.insertUser(new UserRecord("usr_" + ApiKeys.randomHex(4), "admin", ApiKeys.hash(key), 50, 16, 65536, 20, 102_400, Instant.now()));
        log.info("created user admin; its API key is in {}", keyFile);
        if (cliConfig != null && !Files.exists(cliConfig)) {
            boolean newDir = !Files.exists(cliConfig.getParent());
            Files.createDirectories(cliConfig.getParent());
            writePrivate(cliConfig, "api_url: " + apiUrl + "\nauth_token: " + key + "\n");
            if (owner != null) {
                // Written by root under sudo: hand it to the user who will run the CLI.
                var principal = cliConfig.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(owner);
                Files.setOwner(cliConfig, principal);
                if (newDir) Files.setOwner(cliConfig.getParent(), principal);
            }
            log.info("wrote CLI config {}", cliConfig);
        }
        return Optional.of(key);
    }

    private static void writePrivate(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, content);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}

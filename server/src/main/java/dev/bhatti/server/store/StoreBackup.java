package dev.bhatti.server.store;

import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteConnection;
import org.sqlite.SQLiteErrorCode;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A consistent copy of the store while the daemon writes to it ({@code bhatti admin backup}): SQLite's
 * online backup API copies every page in one step under one read transaction (in WAL mode the daemon's
 * writes go on meanwhile and are simply not in the copy), into a temporary file beside the target
 * (0600). The copy is checked ({@code PRAGMA quick_check}), turned into a self-contained rollback-journal
 * file (no -wal or -shm beside it needed to open it, read-only media included), synced, and only then
 * renamed to its name: a failure at any point leaves no file behind, and an existing file is replaced
 * only when asked.
 */
public final class StoreBackup {

    /** A refusal worded for the operator: a missing directory, a file that exists, no store to copy. */
    public static final class BackupException extends RuntimeException {
        BackupException(String message) { super(message); }

        BackupException(String message, Throwable cause) { super(message, cause); }
    }

    /** The copy made: its file and length, its schema version, and rows of the main tables (a sanity check). */
    public record Copy(Path file, long bytes, int schemaVersion, Map<String, Long> rows) {}

    /** Tables whose rows the copy reports. */
    private static final List<String> COUNTED = List.of("users", "sandboxes", "snapshots", "volumes", "secrets", "events");

    private StoreBackup() {}

    /** Copies the store {@code database} to {@code target}; an existing target is replaced only with {@code force}. */
    public static Copy copy(Path database, Path target, boolean force) {
        if (!Files.isRegularFile(database)) {
            throw new BackupException("no bhatti store at " + database + "; pass the daemon's --data-dir");
        }
        Path file = target.toAbsolutePath().normalize();
        Path dir = file.getParent();
        if (dir == null || !Files.exists(dir)) {
            throw new BackupException("the directory " + dir + " does not exist; create it first (mkdir -p " + dir + ")");
        }
        if (!Files.isDirectory(dir)) throw new BackupException(dir + " is not a directory");
        if (Files.isDirectory(file)) throw new BackupException(file + " is a directory; name the file to write, like " + file.resolve("state.db"));
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !force) {
            throw new BackupException(file + " exists; choose another name, or pass --force to replace it");
        }
        Path tmp;
        try {
            tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (AccessDeniedException e) {
            throw new BackupException("cannot write in " + dir + ": permission denied");
        } catch (IOException e) {
            throw new BackupException("cannot write in " + dir + ": " + e.getMessage(), e);
        }
        try {
            backup(database, tmp);
            var copy = check(tmp);
            try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                c.force(true);
            }
            place(tmp, file, force);
            syncDirectory(dir);
            return new Copy(file, Files.size(file), copy.schemaVersion(), copy.rows());
        } catch (IOException e) {
            throw new BackupException("cannot write " + file + ": " + e.getMessage(), e);
        } finally {
            deleteQuietly(tmp);
            deleteQuietly(Path.of(tmp + "-journal"));
        }
    }

    /** Every page of the live store into {@code tmp}, in one step: one read transaction, so one moment of the store. */
    private static void backup(Path database, Path tmp) {
        var config = new SQLiteConfig();
        config.setReadOnly(true); // this connection never writes to the live store
        config.setBusyTimeout(10_000);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + database.toAbsolutePath(), config.toProperties())) {
            // -1 pages a step: all of them under one read lock; 10 tries 200 ms apart while the store is busy (a checkpoint)
            int rc = ((SQLiteConnection) c).getDatabase().backup("main", tmp.toString(), null, 200, 10, -1);
            if (rc != SQLiteErrorCode.SQLITE_OK.code) {
                throw new BackupException("the copy of " + database + " failed: " + SQLiteErrorCode.getErrorCode(rc) + " (is the disk full?)");
            }
        } catch (SQLException e) {
            throw new BackupException("cannot read " + database + ": " + e.getMessage() + " (are you root, or the daemon's user?)", e);
        }
    }

    private record Checked(int schemaVersion, Map<String, Long> rows) {}

    /** The copy opens, passes SQLite's own check, and becomes one self-contained file (rollback journal, not WAL). */
    private static Checked check(Path tmp) {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + tmp); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("PRAGMA quick_check")) {
                String result = rs.next() ? rs.getString(1) : "no answer";
                if (!"ok".equals(result)) throw new BackupException("the copy does not pass SQLite's check: " + result);
            }
            s.execute("PRAGMA journal_mode=DELETE");
            int version;
            try (ResultSet rs = s.executeQuery("PRAGMA user_version")) {
                version = rs.getInt(1);
            }
            var rows = new LinkedHashMap<String, Long>();
            for (String table : COUNTED) {
                try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
                    rows.put(table, rs.getLong(1));
                } catch (SQLException e) {
                    // a store from before that table
                }
            }
            return new Checked(version, rows);
        } catch (SQLException e) {
            throw new BackupException("the copy cannot be read back: " + e.getMessage(), e);
        }
    }

    /** Renames the finished copy to its name: replacing only with {@code force}, never a file that appeared meanwhile. */
    private static void place(Path tmp, Path file, boolean force) throws IOException {
        if (force) {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return;
        }
        try {
            Files.createLink(file, tmp); // link(2) fails if the name exists: no window in which another file is replaced
        } catch (FileAlreadyExistsException e) {
            throw new BackupException(file + " exists; choose another name, or pass --force to replace it");
        } catch (UnsupportedOperationException | IOException e) {
            // a file system without hard links: checked above, renamed now
            if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) throw new BackupException(file + " exists; choose another name, or pass --force to replace it");
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel c = FileChannel.open(dir, StandardOpenOption.READ)) {
            c.force(true);
        } catch (IOException e) {
            // not every file system syncs a directory; the file itself is synced
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // a temporary name starting with a dot; nothing depends on it
        }
    }
}

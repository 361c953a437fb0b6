package dev.bhatti.server.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The schema's history: the version is {@code PRAGMA user_version}; each {@code db/V00N__*.sql}
 * resource is applied once, in its own transaction. A database newer than this bhatti is refused.
 */
final class Migrations {
    /** Migration scripts in order; index + 1 is the schema version each one produces. */
    static final List<String> MIGRATIONS = List.of("db/V001__init.sql", "db/V002__keep_hot.sql", "db/V003__snapshots.sql", "db/V004__secrets.sql", "db/V005__events.sql", "db/V006__storage_limit.sql", "db/V007__networks.sql", "db/V008__publish.sql", "db/V009__shell_tokens.sql", "db/V010__images.sql", "db/V011__volumes.sql", "db/V012__metrics_snapshots.sql", "db/V013__labels_templates.sql", "db/V014__snapshot_type.sql");

    private Migrations() {}

    /** The database's schema version. */
    static int version(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA user_version")) {
            return rs.getInt(1);
        }
    }

    static void migrate(Connection c) throws SQLException {
        int version = version(c);
        if (version > MIGRATIONS.size()) {
            throw new StoreException("the database has schema version " + version + " but this bhatti knows only "
                    + MIGRATIONS.size() + "; upgrade bhatti", null);
        }
        for (int v = version; v < MIGRATIONS.size(); v++) {
            String sql = resource(MIGRATIONS.get(v));
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                for (String stmt : sql.split(";\\s*\\n")) {
                    if (!stmt.isBlank()) s.execute(stmt);
                }
                s.execute("PRAGMA user_version=" + (v + 1));
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    private static String resource(String name) {
        try (InputStream in = Migrations.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing migration " + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

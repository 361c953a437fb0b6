package dev.bhatti.server.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * SQLite in WAL mode through one connection guarded by a lock: the daemon is the only writer and its
 * queries are tiny, so a pool would add nothing. The schema version is {@code PRAGMA user_version};
 * each {@code db/V00N__*.sql} resource is applied once, in its own transaction.
 */
public final class SqliteStore implements Store {

    /** Migration scripts in order; index + 1 is the schema version each one produces. */
    private static final List<String> MIGRATIONS = List.of("db/V001__init.sql", "db/V002__keep_hot.sql", "db/V003__snapshots.sql", "db/V004__secrets.sql", "db/V005__events.sql", "db/V006__storage_limit.sql", "db/V007__networks.sql", "db/V008__publish.sql", "db/V009__shell_tokens.sql");

    private final Connection db;
    private final ReentrantLock lock = new ReentrantLock();

    private SqliteStore(Connection db) { this.db = db; }

    public static SqliteStore open(Path file) {
        try {
            Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA busy_timeout=5000");
                s.execute("PRAGMA foreign_keys=ON");
                s.execute("PRAGMA synchronous=NORMAL");
            }
            migrate(c);
            return new SqliteStore(c);
        } catch (SQLException e) {
            throw new StoreException("cannot open database " + file + ": " + e.getMessage(), e);
        }
    }

    public int schemaVersion() {
        return query(() -> {
            try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("PRAGMA user_version")) {
                return rs.getInt(1);
            }
        });
    }

    private static void migrate(Connection c) throws SQLException {
        int version;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA user_version")) {
            version = rs.getInt(1);
        }
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
        try (InputStream in = SqliteStore.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing migration " + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Optional<UserRecord> userByKeyHash(String hash) {
        return query(() -> one("SELECT * FROM users WHERE api_key_hash = ?", SqliteStore::user, hash));
    }

    @Override
    public Optional<UserRecord> userByName(String name) {
        return query(() -> one("SELECT * FROM users WHERE name = ?", SqliteStore::user, name));
    }

    @Override
    public List<UserRecord> users() {
        return query(() -> many("SELECT * FROM users ORDER BY created_at, name", SqliteStore::user));
    }

    @Override
    public void updateApiKeyHash(String userId, String apiKeyHash) {
        query(() -> update("UPDATE users SET api_key_hash = ? WHERE id = ?", apiKeyHash, userId));
    }

    @Override
    public void deleteUser(String userId) {
        transaction(() -> {
            update("DELETE FROM user_subnets WHERE user_id = ?", userId);
            return update("DELETE FROM users WHERE id = ?", userId);
        });
    }

    @Override
    public int countUsers() {
        return query(() -> count("SELECT COUNT(*) FROM users"));
    }

    @Override
    public void insertUser(UserRecord u) {
        query(() -> update("INSERT INTO users (id, name, api_key_hash, max_sandboxes, max_cpus, max_memory_mb, max_snapshots, "
                + "max_storage_mb, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", u.id(), u.name(), u.apiKeyHash(), u.maxSandboxes(),
                u.maxCpus(), u.maxMemoryMb(), u.maxSnapshots(), u.maxStorageMb(), u.createdAt().toString()));
    }

    @Override
    public Insert insertSandbox(SandboxRecord s, UserRecord limits) {
        return query(() -> {
            try {
                int rows = update("INSERT INTO sandboxes (id, user_id, name, status, detail, cpus, memory_mb, image, engine, accelerator, created_at, keep_hot) "
                        + "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM (SELECT COUNT(*) AS n, COALESCE(SUM(cpus), 0) AS c, "
                        + "COALESCE(SUM(memory_mb), 0) AS m FROM sandboxes WHERE user_id = ?) WHERE n < ? AND c + ? <= ? AND m + ? <= ?",
                        s.id(), s.userId(), s.name(), s.status().wire(), s.detail(), s.cpus(), s.memoryMb(), s.image(), s.engine(),
                        s.accelerator(), s.createdAt().toString(), s.keepHot() ? 1 : 0,
                        s.userId(), limits.maxSandboxes(), s.cpus(), limits.maxCpus(), s.memoryMb(), limits.maxMemoryMb());
                return rows == 1 ? Insert.INSERTED : Insert.OVER_LIMIT;
            } catch (SQLException e) {
                if (e.getMessage() != null && e.getMessage().contains("UNIQUE constraint failed: sandboxes.user_id, sandboxes.name")) {
                    return Insert.NAME_TAKEN;
                }
                throw e;
            }
        });
    }

    @Override
    public Usage usage(String userId) {
        return query(() -> {
            try (PreparedStatement ps = prepare("SELECT COUNT(*), COALESCE(SUM(cpus), 0), COALESCE(SUM(memory_mb), 0) "
                    + "FROM sandboxes WHERE user_id = ?", userId); ResultSet rs = ps.executeQuery()) {
                return new Usage(rs.getInt(1), rs.getInt(2), rs.getInt(3));
            }
        });
    }

    @Override
    public Optional<SandboxRecord> sandbox(String userId, String idOrName) {
        return query(() -> one("SELECT * FROM sandboxes WHERE user_id = ? AND (id = ? OR name = ?) ORDER BY id = ? DESC LIMIT 1",
                SqliteStore::sandbox, userId, idOrName, idOrName, idOrName));
    }

    @Override
    public List<SandboxRecord> sandboxes(String userId) {
        return query(() -> many("SELECT * FROM sandboxes WHERE user_id = ? ORDER BY created_at, name", SqliteStore::sandbox, userId));
    }

    @Override
    public Optional<SandboxRecord> sandboxById(String id) {
        return query(() -> one("SELECT * FROM sandboxes WHERE id = ?", SqliteStore::sandbox, id));
    }

    @Override
    public void updateKeepHot(String sandboxId, boolean keepHot) {
        query(() -> update("UPDATE sandboxes SET keep_hot = ? WHERE id = ?", keepHot ? 1 : 0, sandboxId));
    }

    @Override
    public List<SandboxRecord> allSandboxes() {
        return query(() -> many("SELECT * FROM sandboxes ORDER BY created_at", SqliteStore::sandbox));
    }

    @Override
    public void updateStatus(String sandboxId, SandboxStatus status, String detail) {
        query(() -> update("UPDATE sandboxes SET status = ?, detail = ? WHERE id = ?", status.wire(), detail, sandboxId));
    }

    @Override
    public void updateAccelerator(String sandboxId, String accelerator) {
        query(() -> update("UPDATE sandboxes SET accelerator = ? WHERE id = ?", accelerator, sandboxId));
    }

    @Override
    public void deleteSandbox(String sandboxId) {
        transaction(() -> {
            update("DELETE FROM sandbox_secrets WHERE sandbox_id = ?", sandboxId);
            update("DELETE FROM sandbox_networks WHERE sandbox_id = ?", sandboxId);
            update("DELETE FROM publish_rules WHERE sandbox_id = ?", sandboxId);
            update("DELETE FROM shell_tokens WHERE sandbox_id = ?", sandboxId);
            return update("DELETE FROM sandboxes WHERE id = ?", sandboxId);
        });
    }

    @Override
    public Optional<Integer> subnetIndex(String userId) {
        return query(() -> one("SELECT subnet_index FROM user_subnets WHERE user_id = ?", rs -> rs.getInt(1), userId));
    }

    @Override
    public Optional<Integer> assignSubnet(String userId, int capacity) {
        return transaction(() -> {
            Optional<Integer> have = one("SELECT subnet_index FROM user_subnets WHERE user_id = ?", rs -> rs.getInt(1), userId);
            if (have.isPresent()) return have;
            // the lowest index not in use: 0 if free, else the first one after a used one
            Optional<Integer> free = one("SELECT MIN(i) FROM (SELECT 0 AS i WHERE NOT EXISTS (SELECT 1 FROM user_subnets WHERE subnet_index = 0) "
                    + "UNION SELECT subnet_index + 1 FROM user_subnets WHERE subnet_index + 1 NOT IN (SELECT subnet_index FROM user_subnets))",
                    rs -> rs.getObject(1) == null ? null : rs.getInt(1));
            if (free.isEmpty() || free.get() == null || free.get() >= capacity) return Optional.empty();
            update("INSERT INTO user_subnets (user_id, subnet_index) VALUES (?, ?)", userId, free.get());
            return free;
        });
    }

    @Override
    public java.util.Map<String, Integer> subnets() {
        return query(() -> {
            var map = new java.util.LinkedHashMap<String, Integer>();
            for (var row : many("SELECT user_id, subnet_index FROM user_subnets ORDER BY subnet_index",
                    rs -> java.util.Map.entry(rs.getString(1), rs.getInt(2)))) {
                map.put(row.getKey(), row.getValue());
            }
            return map;
        });
    }

    @Override
    public boolean insertNetwork(NetworkRecord n) {
        return query(() -> update("INSERT OR IGNORE INTO sandbox_networks (sandbox_id, user_id, ip, mac, tap, egress, allow_hosts) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?)", n.sandboxId(), n.userId(), n.ip(), n.mac(), n.tap(), n.egress(),
                String.join(",", n.allowHosts())) == 1);
    }

    @Override
    public Optional<NetworkRecord> network(String sandboxId) {
        return query(() -> one("SELECT * FROM sandbox_networks WHERE sandbox_id = ?", SqliteStore::network, sandboxId));
    }

    @Override
    public List<NetworkRecord> networks() {
        return query(() -> many("SELECT * FROM sandbox_networks ORDER BY user_id, ip", SqliteStore::network));
    }

    @Override
    public PublishInsert insertPublish(PublishRecord r) {
        return transaction(() -> {
            if (count("SELECT COUNT(*) FROM publish_rules WHERE sandbox_id = ? AND port = ?", r.sandboxId(), r.port()) > 0) {
                return PublishInsert.PORT_PUBLISHED;
            }
            int n = update("INSERT OR IGNORE INTO publish_rules (id, user_id, sandbox_id, port, alias, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    r.id(), r.userId(), r.sandboxId(), r.port(), r.alias(), r.createdAt().toString());
            return n == 1 ? PublishInsert.INSERTED : PublishInsert.ALIAS_TAKEN;
        });
    }

    @Override
    public List<PublishRecord> publishes(String sandboxId) {
        return query(() -> many("SELECT * FROM publish_rules WHERE sandbox_id = ? ORDER BY port", SqliteStore::publish, sandboxId));
    }

    @Override
    public Optional<PublishRecord> publishByAlias(String alias) {
        return query(() -> one("SELECT * FROM publish_rules WHERE alias = ?", SqliteStore::publish, alias));
    }

    @Override
    public List<String> publishedAliases() {
        return query(() -> many("SELECT alias FROM publish_rules ORDER BY alias", r -> r.getString(1)));
    }

    @Override
    public boolean deletePublish(String sandboxId, int port) {
        return query(() -> update("DELETE FROM publish_rules WHERE sandbox_id = ? AND port = ?", sandboxId, port) == 1);
    }

    @Override
    public void setShellToken(String sandboxId, String tokenHash, Instant now) {
        query(() -> update("INSERT INTO shell_tokens (sandbox_id, token_hash, created_at) VALUES (?, ?, ?) "
                + "ON CONFLICT (sandbox_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at",
                sandboxId, tokenHash, now.toString()));
    }

    @Override
    public Optional<String> shellTokenHash(String sandboxId) {
        return query(() -> one("SELECT token_hash FROM shell_tokens WHERE sandbox_id = ?", rs -> rs.getString(1), sandboxId));
    }

    @Override
    public boolean deleteShellToken(String sandboxId) {
        return query(() -> update("DELETE FROM shell_tokens WHERE sandbox_id = ?", sandboxId) == 1);
    }

    @Override
    public void deleteNetwork(String sandboxId) {
        query(() -> update("DELETE FROM sandbox_networks WHERE sandbox_id = ?", sandboxId));
    }

    @Override
    public boolean putSecret(String userId, String name, byte[] ciphertext, Instant now) {
        return transaction(() -> {
            int updated = update("UPDATE secrets SET ciphertext = ?, updated_at = ? WHERE user_id = ? AND name = ?",
                    ciphertext, now.toString(), userId, name);
            if (updated == 1) return false;
            update("INSERT INTO secrets (user_id, name, ciphertext, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                    userId, name, ciphertext, now.toString(), now.toString());
            return true;
        });
    }

    @Override
    public List<SecretRecord> secrets(String userId) {
        return query(() -> many("SELECT name, created_at, updated_at FROM secrets WHERE user_id = ? ORDER BY name",
                rs -> new SecretRecord(rs.getString("name"), Instant.parse(rs.getString("created_at")),
                        Instant.parse(rs.getString("updated_at"))), userId));
    }

    @Override
    public Optional<byte[]> secretCiphertext(String userId, String name) {
        return query(() -> one("SELECT ciphertext FROM secrets WHERE user_id = ? AND name = ?", rs -> rs.getBytes(1), userId, name));
    }

    @Override
    public boolean deleteSecret(String userId, String name) {
        return query(() -> update("DELETE FROM secrets WHERE user_id = ? AND name = ?", userId, name) == 1);
    }

    @Override
    public int countAllSecrets() {
        return query(() -> count("SELECT COUNT(*) FROM secrets"));
    }

    @Override
    public void setSandboxSecrets(String sandboxId, List<String> names) {
        transaction(() -> {
            update("DELETE FROM sandbox_secrets WHERE sandbox_id = ?", sandboxId);
            for (String n : names) update("INSERT INTO sandbox_secrets (sandbox_id, name) VALUES (?, ?)", sandboxId, n);
            return null;
        });
    }

    @Override
    public List<String> sandboxSecrets(String sandboxId) {
        return query(() -> many("SELECT name FROM sandbox_secrets WHERE sandbox_id = ? ORDER BY name", rs -> rs.getString(1), sandboxId));
    }

    @Override
    public boolean insertSnapshot(SnapshotRecord s, int maxSnapshots) {
        return query(() -> {
            try {
                // one statement: the cap check and the insert cannot be split by a concurrent create
                int rows = update("INSERT INTO snapshots (id, user_id, name, status, source_sandbox_id, source_name, cpus, memory_mb, "
                        + "image, size_bytes, created_at) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? "
                        + "WHERE (SELECT COUNT(*) FROM snapshots WHERE user_id = ?) < ?",
                        s.id(), s.userId(), s.name(), s.status(), s.sourceSandboxId(), s.sourceName(), s.cpus(), s.memoryMb(),
                        s.image(), s.sizeBytes(), s.createdAt().toString(), s.userId(), maxSnapshots);
                return rows == 1;
            } catch (SQLException e) {
                if (e.getMessage() != null && e.getMessage().contains("UNIQUE constraint failed: snapshots.user_id, snapshots.name")) {
                    return false;
                }
                throw e;
            }
        });
    }

    @Override
    public void markSnapshotReady(String snapshotId, long sizeBytes) {
        query(() -> update("UPDATE snapshots SET status = 'ready', size_bytes = ? WHERE id = ?", sizeBytes, snapshotId));
    }

    @Override
    public Optional<SnapshotRecord> snapshot(String userId, String idOrName) {
        return query(() -> one("SELECT * FROM snapshots WHERE user_id = ? AND (id = ? OR name = ?) ORDER BY id = ? DESC LIMIT 1",
                SqliteStore::snapshot, userId, idOrName, idOrName, idOrName));
    }

    @Override
    public List<SnapshotRecord> snapshots(String userId) {
        return query(() -> many("SELECT * FROM snapshots WHERE user_id = ? ORDER BY created_at, name", SqliteStore::snapshot, userId));
    }

    @Override
    public List<SnapshotRecord> allSnapshots() {
        return query(() -> many("SELECT * FROM snapshots ORDER BY created_at", SqliteStore::snapshot));
    }

    @Override
    public int countSnapshots(String userId) {
        return query(() -> count("SELECT COUNT(*) FROM snapshots WHERE user_id = ?", userId));
    }

    @Override
    public void deleteSnapshot(String snapshotId) {
        query(() -> update("DELETE FROM snapshots WHERE id = ?", snapshotId));
    }

    @Override
    public void recordEvent(EventRecord e) {
        query(() -> update("INSERT INTO events (at, type, user_name, sandbox_name, detail) VALUES (?, ?, ?, ?, ?)",
                sortable(e.at()), e.type(), e.userName(), e.sandboxName(), e.detail()));
    }

    @Override
    public List<EventRecord> events(EventRecord.Filter f) {
        return query(() -> many("SELECT * FROM events WHERE type LIKE ? ESCAPE '\\' AND (? = '' OR user_name = ?) "
                        + "AND (? = '' OR sandbox_name = ?) AND at >= ? ORDER BY id DESC LIMIT ?",
                rs -> new EventRecord(rs.getLong("id"), Instant.parse(rs.getString("at")), rs.getString("type"), rs.getString("user_name"),
                        rs.getString("sandbox_name"), rs.getString("detail")),
                f.typePrefix().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%", f.userName(), f.userName(),
                f.sandboxName(), f.sandboxName(), sortable(f.since()), f.limit()));
    }

    @Override
    public int deleteEventsBefore(Instant cutoff) {
        return query(() -> update("DELETE FROM events WHERE at < ?", sortable(cutoff)));
    }

    /** A fixed-width UTC timestamp, so that comparing the text compares the times. */
    private static String sortable(Instant t) {
        return java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(java.time.ZoneOffset.UTC).format(t);
    }

    @Override
    public void close() {
        lock.lock();
        try {
            db.close();
        } catch (SQLException e) {
            throw new StoreException("close failed", e);
        } finally {
            lock.unlock();
        }
    }

    // --- plumbing ---

    private interface Sql<T> { T run() throws SQLException; }

    private interface Row<T> { T map(ResultSet rs) throws SQLException; }

    private <T> T query(Sql<T> sql) {
        lock.lock();
        try {
            return sql.run();
        } catch (SQLException e) {
            throw new StoreException("database error: " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    /** Runs several statements as one transaction: all of them happen, or none. */
    private <T> T transaction(Sql<T> sql) {
        return query(() -> {
            db.setAutoCommit(false);
            try {
                T result = sql.run();
                db.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
        });
    }

    private PreparedStatement prepare(String sql, Object... args) throws SQLException {
        PreparedStatement ps = db.prepareStatement(sql);
        for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
        return ps;
    }

    private int update(String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(sql, args)) {
            return ps.executeUpdate();
        }
    }

    private int count(String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
            return rs.getInt(1);
        }
    }

    private <T> Optional<T> one(String sql, Row<T> row, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(row.map(rs)) : Optional.empty();
        }
    }

    private <T> List<T> many(String sql, Row<T> row, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
            var list = new ArrayList<T>();
            while (rs.next()) list.add(row.map(rs));
            return list;
        }
    }

    private static UserRecord user(ResultSet rs) throws SQLException {
        return new UserRecord(rs.getString("id"), rs.getString("name"), rs.getString("api_key_hash"),
                rs.getInt("max_sandboxes"), rs.getInt("max_cpus"), rs.getInt("max_memory_mb"), rs.getInt("max_snapshots"),
                rs.getInt("max_storage_mb"), Instant.parse(rs.getString("created_at")));
    }

    private static SandboxRecord sandbox(ResultSet rs) throws SQLException {
        return new SandboxRecord(rs.getString("id"), rs.getString("user_id"), rs.getString("name"), SandboxStatus.parse(rs.getString("status")),
                rs.getString("detail"), rs.getInt("cpus"), rs.getInt("memory_mb"), rs.getString("image"),
                rs.getString("engine"), rs.getString("accelerator"), Instant.parse(rs.getString("created_at")), rs.getInt("keep_hot") != 0);
    }

    private static PublishRecord publish(ResultSet rs) throws SQLException {
        return new PublishRecord(rs.getString("id"), rs.getString("user_id"), rs.getString("sandbox_id"), rs.getInt("port"),
                rs.getString("alias"), Instant.parse(rs.getString("created_at")));
    }

    private static NetworkRecord network(ResultSet rs) throws SQLException {
        String allow = rs.getString("allow_hosts");
        return new NetworkRecord(rs.getString("sandbox_id"), rs.getString("user_id"), rs.getString("ip"), rs.getString("mac"),
                rs.getString("tap"), rs.getString("egress"), allow.isEmpty() ? List.of() : List.of(allow.split(",")));
    }

    private static SnapshotRecord snapshot(ResultSet rs) throws SQLException {
        return new SnapshotRecord(rs.getString("id"), rs.getString("user_id"), rs.getString("name"), rs.getString("status"),
                rs.getString("source_sandbox_id"), rs.getString("source_name"), rs.getInt("cpus"), rs.getInt("memory_mb"),
                rs.getString("image"), rs.getLong("size_bytes"), Instant.parse(rs.getString("created_at")));
    }
}

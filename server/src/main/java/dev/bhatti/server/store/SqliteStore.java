package dev.bhatti.server.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The store in SQLite, WAL mode, through one connection guarded by a lock ({@link Jdbc}): the daemon is
 * the only writer and its queries are tiny, so a pool would add nothing. The schema is migrated at
 * open ({@link Migrations}).
 */
public final class SqliteStore implements Store {

    private final Jdbc db;

    private SqliteStore(Connection connection) { this.db = new Jdbc(connection); }

    public static SqliteStore open(Path file) {
        try {
            Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA busy_timeout=5000");
                s.execute("PRAGMA foreign_keys=ON");
                s.execute("PRAGMA synchronous=NORMAL");
            }
            Migrations.migrate(c);
            return new SqliteStore(c);
        } catch (SQLException e) {
            throw new StoreException("cannot open database " + file + ": " + e.getMessage(), e);
        }
    }

    public int schemaVersion() {
        return db.query(() -> Migrations.version(db.connection()));
    }

    @Override
    public Optional<UserRecord> userByKeyHash(String hash) {
        return db.query(() -> db.one("SELECT * FROM users WHERE api_key_hash = ?", Rows::user, hash));
    }

    @Override
    public Optional<UserRecord> userByName(String name) {
        return db.query(() -> db.one("SELECT * FROM users WHERE name = ?", Rows::user, name));
    }

    @Override
    public List<UserRecord> users() {
        return db.query(() -> db.many("SELECT * FROM users ORDER BY created_at, name", Rows::user));
    }

    @Override
    public void updateApiKeyHash(String userId, String apiKeyHash) {
        db.query(() -> db.update("UPDATE users SET api_key_hash = ? WHERE id = ?", apiKeyHash, userId));
    }

    @Override
    public void deleteUser(String userId) {
        db.transaction(() -> {
            db.update("DELETE FROM user_subnets WHERE user_id = ?", userId);
            db.update("DELETE FROM templates WHERE user_id = ?", userId);
            return db.update("DELETE FROM users WHERE id = ?", userId);
        });
    }

    @Override
    public int countUsers() {
        return db.query(() -> db.count("SELECT COUNT(*) FROM users"));
    }

    @Override
    public void insertUser(UserRecord u) {
        db.query(() -> db.update("INSERT INTO users (id, name, api_key_hash, max_sandboxes, max_cpus, max_memory_mb, max_snapshots, "
                + "max_storage_mb, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", u.id(), u.name(), u.apiKeyHash(), u.maxSandboxes(),
                u.maxCpus(), u.maxMemoryMb(), u.maxSnapshots(), u.maxStorageMb(), u.createdAt().toString()));
    }

    @Override
    public Insert insertSandbox(SandboxRecord s, UserRecord limits) {
        return db.query(() -> {
            try {
                int rows = db.update("INSERT INTO sandboxes (id, user_id, name, status, detail, cpus, memory_mb, image, engine, accelerator, created_at, keep_hot) "
                        + "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM (SELECT COUNT(*) AS n, COALESCE(SUM(cpus), 0) AS c, "
                        + "COALESCE(SUM(memory_mb), 0) AS m FROM sandboxes WHERE user_id = ?) WHERE n < ? AND c + ? <= ? AND m + ? <= ?",
                        s.id(), s.userId(), s.name(), s.status().wire(), s.detail(), s.cpus(), s.memoryMb(), s.image(), s.engine(),
                        s.accelerator(), s.createdAt().toString(), s.keepHot() ? 1 : 0,
                        s.userId(), limits.maxSandboxes(), s.cpus(), limits.maxCpus(), s.memoryMb(), limits.maxMemoryMb());
                return rows == 1 ? Insert.INSERTED : Insert.OVER_LIMIT;
            } catch (SQLException e) {
                if (Jdbc.isUniqueViolation(e)) { // the user has a sandbox of that name
                    return Insert.NAME_TAKEN;
                }
                throw e;
            }
        });
    }

    @Override
    public Usage usage(String userId) {
        return db.query(() -> {
            try (PreparedStatement ps = db.prepare("SELECT COUNT(*), COALESCE(SUM(cpus), 0), COALESCE(SUM(memory_mb), 0) "
                    + "FROM sandboxes WHERE user_id = ?", userId); ResultSet rs = ps.executeQuery()) {
                return new Usage(rs.getInt(1), rs.getInt(2), rs.getInt(3));
            }
        });
    }

    @Override
    public Optional<SandboxRecord> sandbox(String userId, String idOrName) {
        return db.query(() -> db.one("SELECT * FROM sandboxes WHERE user_id = ? AND (id = ? OR name = ?) ORDER BY id = ? DESC LIMIT 1",
                Rows::sandbox, userId, idOrName, idOrName, idOrName));
    }

    @Override
    public List<SandboxRecord> sandboxes(String userId) {
        return db.query(() -> db.many("SELECT * FROM sandboxes WHERE user_id = ? ORDER BY created_at, name", Rows::sandbox, userId));
    }

    @Override
    public Optional<SandboxRecord> sandboxById(String id) {
        return db.query(() -> db.one("SELECT * FROM sandboxes WHERE id = ?", Rows::sandbox, id));
    }

    @Override
    public void updateKeepHot(String sandboxId, boolean keepHot) {
        db.query(() -> db.update("UPDATE sandboxes SET keep_hot = ? WHERE id = ?", keepHot ? 1 : 0, sandboxId));
    }

    @Override
    public List<SandboxRecord> allSandboxes() {
        return db.query(() -> db.many("SELECT * FROM sandboxes ORDER BY created_at", Rows::sandbox));
    }

    @Override
    public void updateStatus(String sandboxId, SandboxStatus status, String detail) {
        db.query(() -> db.update("UPDATE sandboxes SET status = ?, detail = ? WHERE id = ?", status.wire(), detail, sandboxId));
    }

    @Override
    public void updateAccelerator(String sandboxId, String accelerator) {
        db.query(() -> db.update("UPDATE sandboxes SET accelerator = ? WHERE id = ?", accelerator, sandboxId));
    }

    @Override
    public void deleteSandbox(String sandboxId) {
        db.transaction(() -> {
            db.update("DELETE FROM sandbox_secrets WHERE sandbox_id = ?", sandboxId);
            db.update("DELETE FROM sandbox_networks WHERE sandbox_id = ?", sandboxId);
            db.update("DELETE FROM publish_rules WHERE sandbox_id = ?", sandboxId);
            db.update("DELETE FROM shell_tokens WHERE sandbox_id = ?", sandboxId);
            db.update("DELETE FROM volume_attachments WHERE sandbox_id = ?", sandboxId);
            db.update("DELETE FROM sandbox_labels WHERE sandbox_id = ?", sandboxId);
            return db.update("DELETE FROM sandboxes WHERE id = ?", sandboxId);
        });
    }

    @Override
    public boolean renameSandbox(String sandboxId, String newName) {
        return db.query(() -> {
            try {
                return db.update("UPDATE sandboxes SET name = ? WHERE id = ?", newName, sandboxId) == 1;
            } catch (SQLException e) {
                if (Jdbc.isUniqueViolation(e)) return false;
                throw e;
            }
        });
    }

    @Override
    public Map<String, String> sandboxLabels(String sandboxId) {
        return db.query(() -> {
            var labels = new LinkedHashMap<String, String>();
            db.many("SELECT key, value FROM sandbox_labels WHERE sandbox_id = ? ORDER BY key", rs -> labels.put(rs.getString(1), rs.getString(2)), sandboxId);
            return labels;
        });
    }

    @Override
    public void updateSandboxLabels(String sandboxId, Map<String, String> changes) {
        db.transaction(() -> {
            for (var e : changes.entrySet()) {
                if (e.getValue() == null) db.update("DELETE FROM sandbox_labels WHERE sandbox_id = ? AND key = ?", sandboxId, e.getKey());
                else db.update("INSERT INTO sandbox_labels (sandbox_id, key, value) VALUES (?, ?, ?) "
                        + "ON CONFLICT (sandbox_id, key) DO UPDATE SET value = excluded.value", sandboxId, e.getKey(), e.getValue());
            }
            return null;
        });
    }

    @Override
    public boolean insertTemplate(TemplateRecord t) {
        return db.query(() -> {
            try {
                return db.update("INSERT INTO templates (user_id, name, spec, created_at) VALUES (?, ?, ?, ?)",
                        t.userId(), t.name(), t.spec(), t.createdAt().toString()) == 1;
            } catch (SQLException e) {
                if (Jdbc.isUniqueViolation(e)) return false;
                throw e;
            }
        });
    }

    @Override
    public List<TemplateRecord> templates(String userId) {
        return db.query(() -> db.many("SELECT * FROM templates WHERE user_id = ? ORDER BY name", SqliteStore::template, userId));
    }

    @Override
    public Optional<TemplateRecord> template(String userId, String name) {
        return db.query(() -> db.one("SELECT * FROM templates WHERE user_id = ? AND name = ?", SqliteStore::template, userId, name));
    }

    @Override
    public boolean deleteTemplate(String userId, String name) {
        return db.query(() -> db.update("DELETE FROM templates WHERE user_id = ? AND name = ?", userId, name) == 1);
    }

    private static TemplateRecord template(ResultSet rs) throws SQLException {
        return new TemplateRecord(rs.getString("user_id"), rs.getString("name"), rs.getString("spec"), Instant.parse(rs.getString("created_at")));
    }

    @Override
    public Optional<Integer> subnetIndex(String userId) {
        return db.query(() -> db.one("SELECT subnet_index FROM user_subnets WHERE user_id = ?", rs -> rs.getInt(1), userId));
    }

    @Override
    public Optional<Integer> assignSubnet(String userId, int capacity) {
        return db.transaction(() -> {
            Optional<Integer> have = db.one("SELECT subnet_index FROM user_subnets WHERE user_id = ?", rs -> rs.getInt(1), userId);
            if (have.isPresent()) return have;
            // the lowest index not in use: 0 if free, else the first one after a used one
            Optional<Integer> free = db.one("SELECT MIN(i) FROM (SELECT 0 AS i WHERE NOT EXISTS (SELECT 1 FROM user_subnets WHERE subnet_index = 0) "
                    + "UNION SELECT subnet_index + 1 FROM user_subnets WHERE subnet_index + 1 NOT IN (SELECT subnet_index FROM user_subnets))",
                    rs -> rs.getObject(1) == null ? null : rs.getInt(1));
            if (free.isEmpty() || free.get() == null || free.get() >= capacity) return Optional.empty();
            db.update("INSERT INTO user_subnets (user_id, subnet_index) VALUES (?, ?)", userId, free.get());
            return free;
        });
    }

    @Override
    public Map<String, Integer> subnets() {
        return db.query(() -> {
            var map = new LinkedHashMap<String, Integer>();
            for (var row : db.many("SELECT user_id, subnet_index FROM user_subnets ORDER BY subnet_index",
                    rs -> Map.entry(rs.getString(1), rs.getInt(2)))) {
                map.put(row.getKey(), row.getValue());
            }
            return map;
        });
    }

    @Override
    public boolean insertNetwork(NetworkRecord n) {
        return db.query(() -> db.update("INSERT OR IGNORE INTO sandbox_networks (sandbox_id, user_id, ip, mac, tap, egress, allow_hosts) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?)", n.sandboxId(), n.userId(), n.ip(), n.mac(), n.tap(), n.egress(),
                String.join(",", n.allowHosts())) == 1);
    }

    @Override
    public Optional<NetworkRecord> network(String sandboxId) {
        return db.query(() -> db.one("SELECT * FROM sandbox_networks WHERE sandbox_id = ?", Rows::network, sandboxId));
    }

    @Override
    public List<NetworkRecord> networks() {
        return db.query(() -> db.many("SELECT * FROM sandbox_networks ORDER BY user_id, ip", Rows::network));
    }

    @Override
    public PublishInsert insertPublish(PublishRecord r) {
        return db.transaction(() -> {
            if (db.count("SELECT COUNT(*) FROM publish_rules WHERE sandbox_id = ? AND port = ?", r.sandboxId(), r.port()) > 0) {
                return PublishInsert.PORT_PUBLISHED;
            }
            int n = db.update("INSERT OR IGNORE INTO publish_rules (id, user_id, sandbox_id, port, alias, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    r.id(), r.userId(), r.sandboxId(), r.port(), r.alias(), r.createdAt().toString());
            return n == 1 ? PublishInsert.INSERTED : PublishInsert.ALIAS_TAKEN;
        });
    }

    @Override
    public List<PublishRecord> publishes(String sandboxId) {
        return db.query(() -> db.many("SELECT * FROM publish_rules WHERE sandbox_id = ? ORDER BY port", Rows::publish, sandboxId));
    }

    @Override
    public Optional<PublishRecord> publishByAlias(String alias) {
        return db.query(() -> db.one("SELECT * FROM publish_rules WHERE alias = ?", Rows::publish, alias));
    }

    @Override
    public List<String> publishedAliases() {
        return db.query(() -> db.many("SELECT alias FROM publish_rules ORDER BY alias", r -> r.getString(1)));
    }

    @Override
    public boolean deletePublish(String sandboxId, int port) {
        return db.query(() -> db.update("DELETE FROM publish_rules WHERE sandbox_id = ? AND port = ?", sandboxId, port) == 1);
    }

    @Override
    public void setShellToken(String sandboxId, String tokenHash, Instant now) {
        db.query(() -> db.update("INSERT INTO shell_tokens (sandbox_id, token_hash, created_at) VALUES (?, ?, ?) "
                + "ON CONFLICT (sandbox_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at",
                sandboxId, tokenHash, now.toString()));
    }

    @Override
    public Optional<String> shellTokenHash(String sandboxId) {
        return db.query(() -> db.one("SELECT token_hash FROM shell_tokens WHERE sandbox_id = ?", rs -> rs.getString(1), sandboxId));
    }

    @Override
    public boolean deleteShellToken(String sandboxId) {
        return db.query(() -> db.update("DELETE FROM shell_tokens WHERE sandbox_id = ?", sandboxId) == 1);
    }

    @Override
    public void deleteNetwork(String sandboxId) {
        db.query(() -> db.update("DELETE FROM sandbox_networks WHERE sandbox_id = ?", sandboxId));
    }

    @Override
    public boolean putSecret(String userId, String name, byte[] ciphertext, Instant now) {
        return db.transaction(() -> {
            int updated = db.update("UPDATE secrets SET ciphertext = ?, updated_at = ? WHERE user_id = ? AND name = ?",
                    ciphertext, now.toString(), userId, name);
            if (updated == 1) return false;
            db.update("INSERT INTO secrets (user_id, name, ciphertext, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                    userId, name, ciphertext, now.toString(), now.toString());
            return true;
        });
    }

    @Override
    public List<SecretRecord> secrets(String userId) {
        return db.query(() -> db.many("SELECT name, created_at, updated_at FROM secrets WHERE user_id = ? ORDER BY name",
                rs -> new SecretRecord(rs.getString("name"), Instant.parse(rs.getString("created_at")),
                        Instant.parse(rs.getString("updated_at"))), userId));
    }

    @Override
    public Optional<byte[]> secretCiphertext(String userId, String name) {
        return db.query(() -> db.one("SELECT ciphertext FROM secrets WHERE user_id = ? AND name = ?", rs -> rs.getBytes(1), userId, name));
    }

    @Override
    public boolean deleteSecret(String userId, String name) {
        return db.query(() -> db.update("DELETE FROM secrets WHERE user_id = ? AND name = ?", userId, name) == 1);
    }

    @Override
    public int countAllSecrets() {
        return db.query(() -> db.count("SELECT COUNT(*) FROM secrets"));
    }

    @Override
    public void setSandboxSecrets(String sandboxId, List<String> names) {
        db.transaction(() -> {
            db.update("DELETE FROM sandbox_secrets WHERE sandbox_id = ?", sandboxId);
            for (String n : names) db.update("INSERT INTO sandbox_secrets (sandbox_id, name) VALUES (?, ?)", sandboxId, n);
            return null;
        });
    }

    @Override
    public List<String> sandboxSecrets(String sandboxId) {
        return db.query(() -> db.many("SELECT name FROM sandbox_secrets WHERE sandbox_id = ? ORDER BY name", rs -> rs.getString(1), sandboxId));
    }

    @Override
    public boolean insertSnapshot(SnapshotRecord s, int maxSnapshots) {
        return db.query(() -> {
            try {
                // one statement: the cap check and the insert cannot be split by a concurrent create
                int rows = db.update("INSERT INTO snapshots (id, user_id, name, status, source_sandbox_id, source_name, cpus, memory_mb, "
                        + "image, size_bytes, created_at, type) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? "
                        + "WHERE (SELECT COUNT(*) FROM snapshots WHERE user_id = ? AND status != 'forking') < ?",
                        s.id(), s.userId(), s.name(), s.status(), s.sourceSandboxId(), s.sourceName(), s.cpus(), s.memoryMb(),
                        s.image(), s.sizeBytes(), s.createdAt().toString(), s.type(), s.userId(), maxSnapshots);
                return rows == 1;
            } catch (SQLException e) {
                if (Jdbc.isUniqueViolation(e)) { // the user has a snapshot of that name
                    return false;
                }
                throw e;
            }
        });
    }

    @Override
    public void markSnapshotReady(String snapshotId, long sizeBytes) {
        db.query(() -> db.update("UPDATE snapshots SET status = 'ready', size_bytes = ? WHERE id = ?", sizeBytes, snapshotId));
    }

    @Override
    public Optional<SnapshotRecord> snapshot(String userId, String idOrName) {
        return db.query(() -> db.one("SELECT * FROM snapshots WHERE user_id = ? AND (id = ? OR name = ?) ORDER BY id = ? DESC LIMIT 1",
                Rows::snapshot, userId, idOrName, idOrName, idOrName));
    }

    @Override
    public List<SnapshotRecord> snapshots(String userId) {
        return db.query(() -> db.many("SELECT * FROM snapshots WHERE user_id = ? ORDER BY created_at, name", Rows::snapshot, userId));
    }

    @Override
    public List<SnapshotRecord> allSnapshots() {
        return db.query(() -> db.many("SELECT * FROM snapshots ORDER BY created_at", Rows::snapshot));
    }

    @Override
    public int countSnapshots(String userId) {
        return db.query(() -> db.count("SELECT COUNT(*) FROM snapshots WHERE user_id = ?", userId));
    }

    @Override
    public void deleteSnapshot(String snapshotId) {
        db.transaction(() -> {
            db.update("DELETE FROM snapshot_volumes WHERE snapshot_id = ?", snapshotId);
            return db.update("DELETE FROM snapshots WHERE id = ?", snapshotId);
        });
    }

    @Override
    public void recordEvent(EventRecord e) {
        db.query(() -> db.update("INSERT INTO events (at, type, user_name, sandbox_name, detail) VALUES (?, ?, ?, ?, ?)",
                sortable(e.at()), e.type(), e.userName(), e.sandboxName(), e.detail()));
    }

    @Override
    public List<EventRecord> events(EventRecord.Filter f) {
        return db.query(() -> db.many("SELECT * FROM events WHERE type LIKE ? ESCAPE '\\' AND (? = '' OR user_name = ?) "
                        + "AND (? = '' OR sandbox_name = ?) AND at >= ? ORDER BY id DESC LIMIT ?",
                rs -> new EventRecord(rs.getLong("id"), Instant.parse(rs.getString("at")), rs.getString("type"), rs.getString("user_name"),
                        rs.getString("sandbox_name"), rs.getString("detail")),
                f.typePrefix().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%", f.userName(), f.userName(),
                f.sandboxName(), f.sandboxName(), sortable(f.since()), f.limit()));
    }

    @Override
    public int deleteEventsBefore(Instant cutoff) {
        return db.query(() -> db.update("DELETE FROM events WHERE at < ?", sortable(cutoff)));
    }

    @Override
    public void recordMetricsSnapshot(MetricsSnapshotRecord m) {
        // OR REPLACE: two rows in one millisecond (a test's clock) keep the later one
        db.query(() -> db.update("INSERT OR REPLACE INTO metrics_snapshots (at, sandboxes_hot, sandboxes_warm, sandboxes_cold, sandboxes_total, "
                        + "users, api_requests, api_errors, load1, memory_total_bytes, memory_available_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                sortable(m.at()), m.sandboxesHot(), m.sandboxesWarm(), m.sandboxesCold(), m.sandboxesTotal(), m.users(), m.apiRequests(),
                m.apiErrors(), m.load1(), m.memoryTotalBytes(), m.memoryAvailableBytes()));
    }

    @Override
    public List<MetricsSnapshotRecord> metricsSnapshots(Instant since, int limit) {
        List<MetricsSnapshotRecord> newestFirst = db.query(() -> db.many("SELECT * FROM metrics_snapshots WHERE at >= ? ORDER BY at DESC LIMIT ?",
                rs -> new MetricsSnapshotRecord(Instant.parse(rs.getString("at")), rs.getInt("sandboxes_hot"), rs.getInt("sandboxes_warm"),
                        rs.getInt("sandboxes_cold"), rs.getInt("sandboxes_total"), rs.getInt("users"), rs.getLong("api_requests"),
                        rs.getLong("api_errors"), rs.getDouble("load1"), rs.getLong("memory_total_bytes"), rs.getLong("memory_available_bytes")),
                sortable(since), limit));
        return newestFirst.reversed();
    }

    @Override
    public int deleteMetricsSnapshotsBefore(Instant cutoff) {
        return db.query(() -> db.update("DELETE FROM metrics_snapshots WHERE at < ?", sortable(cutoff)));
    }

    /** A fixed-width UTC timestamp, so that comparing the text compares the times. */
    private static String sortable(Instant t) {
        return DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC).format(t);
    }

    @Override
    public boolean insertImage(ImageRecord i) {
        return db.query(() -> db.update("INSERT OR IGNORE INTO images (id, user_id, name, source, digest, size_bytes, config, created_at) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", i.id(), i.userId(), i.name(), i.source(), i.digest(), i.sizeBytes(), i.config(),
                i.createdAt().toString()) == 1);
    }

    @Override
    public List<ImageRecord> images(String userId) {
        return db.query(() -> db.many("SELECT i.*, 0 AS shared FROM images i WHERE i.user_id = ? UNION ALL "
                + "SELECT i.*, 1 AS shared FROM images i JOIN image_shares s ON s.image_id = i.id WHERE s.user_id = ? "
                + "ORDER BY shared, name", Rows::image, userId, userId));
    }

    @Override
    public Optional<ImageRecord> image(String userId, String name) {
        return db.query(() -> db.one("SELECT i.*, 0 AS shared FROM images i WHERE i.user_id = ? AND i.name = ? UNION ALL "
                + "SELECT i.*, 1 AS shared FROM images i JOIN image_shares s ON s.image_id = i.id WHERE s.user_id = ? AND i.name = ? "
                + "ORDER BY shared LIMIT 1", Rows::image, userId, name, userId, name));
    }

    @Override
    public boolean deleteImage(String imageId) {
        return db.transaction(() -> {
            db.update("DELETE FROM image_shares WHERE image_id = ?", imageId);
            return db.update("DELETE FROM images WHERE id = ?", imageId) == 1;
        });
    }

    @Override
    public void shareImage(String imageId, String userId) {
        db.query(() -> db.update("INSERT OR IGNORE INTO image_shares (image_id, user_id) VALUES (?, ?)", imageId, userId));
    }

    @Override
    public boolean unshareImage(String imageId, String userId) {
        return db.query(() -> db.update("DELETE FROM image_shares WHERE image_id = ? AND user_id = ?", imageId, userId) == 1);
    }

    @Override
    public List<String> imageShares(String imageId) {
        return db.query(() -> db.many("SELECT u.name FROM image_shares s JOIN users u ON u.id = s.user_id WHERE s.image_id = ? ORDER BY u.name",
                rs -> rs.getString(1), imageId));
    }

    @Override
    public long imageBytes(String userId) {
        return db.query(() -> db.one("SELECT COALESCE(SUM(size_bytes), 0) FROM images WHERE user_id = ?", rs -> rs.getLong(1), userId)
                .orElse(0L));
    }

    @Override
    public VolumeInsert insertVolume(VolumeRecord v, long maxTotalMb) {
        return db.query(() -> {
            try {
                int rows = db.update("INSERT INTO volumes (id, user_id, name, size_mb, status, generation, source, created_at) "
                        + "SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE (SELECT COALESCE(SUM(size_mb), 0) FROM volumes WHERE user_id = ?) + ? <= ?",
                        v.id(), v.userId(), v.name(), v.sizeMb(), v.status(), v.generation(), v.source(), v.createdAt().toString(),
                        v.userId(), v.sizeMb(), maxTotalMb);
                return rows == 1 ? VolumeInsert.INSERTED : VolumeInsert.OVER_LIMIT;
            } catch (SQLException e) {
                if (Jdbc.isUniqueViolation(e)) return VolumeInsert.NAME_TAKEN;
                throw e;
            }
        });
    }

    @Override
    public void markVolumeReady(String volumeId) {
        db.query(() -> db.update("UPDATE volumes SET status = 'ready' WHERE id = ?", volumeId));
    }

    @Override
    public Optional<VolumeRecord> volume(String userId, String name) {
        return db.query(() -> db.one("SELECT * FROM volumes WHERE user_id = ? AND name = ?", Rows::volume, userId, name));
    }

    @Override
    public Optional<VolumeRecord> volumeById(String volumeId) {
        return db.query(() -> db.one("SELECT * FROM volumes WHERE id = ?", Rows::volume, volumeId));
    }

    @Override
    public List<VolumeRecord> volumes(String userId) {
        return db.query(() -> db.many("SELECT * FROM volumes WHERE user_id = ? ORDER BY name", Rows::volume, userId));
    }

    @Override
    public List<VolumeRecord> allVolumes() {
        return db.query(() -> db.many("SELECT * FROM volumes ORDER BY user_id, name", Rows::volume));
    }

    @Override
    public long volumeMb(String userId) {
        return db.query(() -> db.one("SELECT COALESCE(SUM(size_mb), 0) FROM volumes WHERE user_id = ?", rs -> rs.getLong(1), userId).orElse(0L));
    }

    @Override
    public boolean resizeVolume(String volumeId, int sizeMb, long maxTotalMb) {
        return db.query(() -> db.update("UPDATE volumes SET size_mb = ?, generation = generation + 1 WHERE id = ? AND "
                + "(SELECT COALESCE(SUM(size_mb), 0) FROM volumes v WHERE v.user_id = volumes.user_id AND v.id <> volumes.id) + ? <= ?",
                sizeMb, volumeId, sizeMb, maxTotalMb) == 1);
    }

    @Override
    public void bumpVolumeGeneration(String volumeId) {
        db.query(() -> db.update("UPDATE volumes SET generation = generation + 1 WHERE id = ?", volumeId));
    }

    @Override
    public boolean deleteVolume(String volumeId) {
        return db.query(() -> db.update("DELETE FROM volumes WHERE id = ? AND NOT EXISTS "
                + "(SELECT 1 FROM volume_attachments WHERE volume_id = ?)", volumeId, volumeId) == 1);
    }

    private static final String ATTACHMENTS = "SELECT a.*, v.name AS volume_name, s.name AS sandbox_name FROM volume_attachments a "
            + "JOIN volumes v ON v.id = a.volume_id JOIN sandboxes s ON s.id = a.sandbox_id ";

    @Override
    public List<VolumeAttachment> volumeAttachments(String volumeId) {
        return db.query(() -> db.many(ATTACHMENTS + "WHERE a.volume_id = ? ORDER BY s.name", Rows::attachment, volumeId));
    }

    @Override
    public List<VolumeAttachment> sandboxVolumes(String sandboxId) {
        return db.query(() -> db.many(ATTACHMENTS + "WHERE a.sandbox_id = ? ORDER BY a.position", Rows::attachment, sandboxId));
    }

    @Override
    public Optional<String> attachVolumes(String sandboxId, List<VolumeAttachment> attachments) {
        try {
            return db.transaction(() -> {
                for (VolumeAttachment a : attachments) {
                    var volume = db.one("SELECT * FROM volumes WHERE id = ?", Rows::volume, a.volumeId());
                    if (volume.isEmpty() || !volume.get().status().equals(VolumeRecord.READY)) {
                        throw new Refused("volume " + a.volumeName() + " is " + (volume.isEmpty() ? "gone" : "still being made; try again in a moment"));
                    }
                    var others = db.many(ATTACHMENTS + "WHERE a.volume_id = ?", Rows::attachment, a.volumeId());
                    for (VolumeAttachment o : others) {
                        if (!o.readOnly() || !a.readOnly()) {
                            throw new Refused("volume " + a.volumeName() + " is attached " + (o.readOnly() ? "read-only" : "read-write")
                                    + " to sandbox " + o.sandboxName() + (a.readOnly() ? "" : "; a read-write volume is attached to one sandbox at a time")
                                    + (o.readOnly() ? "" : "; attach it read-only (:ro) only once that sandbox is destroyed"));
                        }
                    }
                    db.update("INSERT INTO volume_attachments (volume_id, sandbox_id, position, mount, read_only) VALUES (?, ?, ?, ?, ?)",
                            a.volumeId(), sandboxId, a.position(), a.mount(), a.readOnly() ? 1 : 0);
                    if (!a.readOnly()) db.update("UPDATE volumes SET generation = generation + 1 WHERE id = ?", a.volumeId());
                }
                return Optional.<String>empty();
            });
        } catch (Refused r) {
            return Optional.of(r.getMessage());
        }
    }

    /** Rolls an attach back with its reason. */
    private static final class Refused extends RuntimeException {
        Refused(String why) { super(why, null, false, false); }
    }

    @Override
    public void detachVolumes(String sandboxId) {
        db.query(() -> db.update("DELETE FROM volume_attachments WHERE sandbox_id = ?", sandboxId));
    }

    @Override
    public void setSnapshotVolumes(String snapshotId, List<SnapshotVolume> volumes) {
        db.transaction(() -> {
            db.update("DELETE FROM snapshot_volumes WHERE snapshot_id = ?", snapshotId);
            for (SnapshotVolume v : volumes) {
                db.update("INSERT INTO snapshot_volumes (snapshot_id, position, volume_id, volume_name, generation, mount, read_only) "
                        + "VALUES (?, ?, ?, ?, ?, ?, ?)", snapshotId, v.position(), v.volumeId(), v.volumeName(), v.generation(), v.mount(),
                        v.readOnly() ? 1 : 0);
            }
            return null;
        });
    }

    @Override
    public List<SnapshotVolume> snapshotVolumes(String snapshotId) {
        return db.query(() -> db.many("SELECT * FROM snapshot_volumes WHERE snapshot_id = ? ORDER BY position", rs -> new SnapshotVolume(
                rs.getInt("position"), rs.getString("volume_id"), rs.getString("volume_name"), rs.getLong("generation"),
                rs.getString("mount"), rs.getInt("read_only") == 1), snapshotId));
    }

    @Override
    public void close() { db.close(); }
}

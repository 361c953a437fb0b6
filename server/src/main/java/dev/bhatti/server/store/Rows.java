package dev.bhatti.server.store;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;

/** The store's records read from their rows. */
final class Rows {
    private Rows() {}

    static UserRecord user(ResultSet rs) throws SQLException {
        return new UserRecord(rs.getString("id"), rs.getString("name"), rs.getString("api_key_hash"),
                rs.getInt("max_sandboxes"), rs.getInt("max_cpus"), rs.getInt("max_memory_mb"), rs.getInt("max_snapshots"),
                rs.getInt("max_storage_mb"), Instant.parse(rs.getString("created_at")));
    }

    static SandboxRecord sandbox(ResultSet rs) throws SQLException {
        return new SandboxRecord(rs.getString("id"), rs.getString("user_id"), rs.getString("name"), SandboxStatus.parse(rs.getString("status")),
                rs.getString("detail"), rs.getInt("cpus"), rs.getInt("memory_mb"), rs.getString("image"),
                rs.getString("engine"), rs.getString("accelerator"), Instant.parse(rs.getString("created_at")), rs.getInt("keep_hot") != 0);
    }

    static PublishRecord publish(ResultSet rs) throws SQLException {
        return new PublishRecord(rs.getString("id"), rs.getString("user_id"), rs.getString("sandbox_id"), rs.getInt("port"),
                rs.getString("alias"), Instant.parse(rs.getString("created_at")));
    }

    static NetworkRecord network(ResultSet rs) throws SQLException {
        String allow = rs.getString("allow_hosts");
        return new NetworkRecord(rs.getString("sandbox_id"), rs.getString("user_id"), rs.getString("ip"), rs.getString("mac"),
                rs.getString("tap"), rs.getString("egress"), allow.isEmpty() ? List.of() : List.of(allow.split(",")));
    }

    static SnapshotRecord snapshot(ResultSet rs) throws SQLException {
        return new SnapshotRecord(rs.getString("id"), rs.getString("user_id"), rs.getString("name"), rs.getString("status"),
                rs.getString("source_sandbox_id"), rs.getString("source_name"), rs.getInt("cpus"), rs.getInt("memory_mb"),
                rs.getString("image"), rs.getLong("size_bytes"), Instant.parse(rs.getString("created_at")), rs.getString("type"));
    }

    static ImageRecord image(ResultSet rs) throws SQLException {
        return new ImageRecord(rs.getString("id"), rs.getString("user_id"), rs.getString("name"), rs.getString("source"),
                rs.getString("digest"), rs.getLong("size_bytes"), rs.getString("config"), Instant.parse(rs.getString("created_at")));
    }

    static VolumeRecord volume(ResultSet rs) throws SQLException {
        return new VolumeRecord(rs.getString("id"), rs.getString("user_id"), rs.getString("name"), rs.getInt("size_mb"),
                rs.getString("status"), rs.getLong("generation"), rs.getString("source"), Instant.parse(rs.getString("created_at")));
    }

    static VolumeAttachment attachment(ResultSet rs) throws SQLException {
        return new VolumeAttachment(rs.getString("volume_id"), rs.getString("volume_name"), rs.getString("sandbox_id"),
                rs.getString("sandbox_name"), rs.getInt("position"), rs.getString("mount"), rs.getInt("read_only") == 1);
    }
}

-- Volumes: ext4 file systems in sparse files that outlive sandboxes. status is 'creating' while the file is
-- being made (a daemon that died then finds the row at start and removes it), then 'ready'. generation
-- grows whenever the contents may change outside a snapshot's knowledge (a read-write attach, a resize, a
-- restore): a snapshot that saw a read-only volume at generation g may attach it again only at g.
CREATE TABLE volumes (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    name        TEXT NOT NULL,
    size_mb     INTEGER NOT NULL,
    status      TEXT NOT NULL,
    generation  INTEGER NOT NULL DEFAULT 0,
    source      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (user_id, name)
);

-- A read-write volume is attached to one sandbox; a read-only one to any number, and then to none read-write.
CREATE TABLE volume_attachments (
    volume_id   TEXT NOT NULL REFERENCES volumes(id),
    sandbox_id  TEXT NOT NULL REFERENCES sandboxes(id),
    position    INTEGER NOT NULL,
    mount       TEXT NOT NULL,
    read_only   INTEGER NOT NULL,
    PRIMARY KEY (volume_id, sandbox_id)
);

-- The volumes a named snapshot carries (copies of their files are in the snapshot's directory).
CREATE TABLE snapshot_volumes (
    snapshot_id TEXT NOT NULL REFERENCES snapshots(id),
    position    INTEGER NOT NULL,
    volume_id   TEXT NOT NULL,
    volume_name TEXT NOT NULL,
    generation  INTEGER NOT NULL,
    mount       TEXT NOT NULL,
    read_only   INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, position)
);

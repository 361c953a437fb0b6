-- Named snapshots: a sandbox's memory, devices and disk at one moment, resumable as new sandboxes.
-- status is 'creating' from the moment the name is taken until the files are complete, then 'ready'.
-- a daemon that died in between finds 'creating' rows at start and removes them with their files.
CREATE TABLE snapshots (
    id                TEXT PRIMARY KEY,
    user_id           TEXT NOT NULL REFERENCES users(id),
    name              TEXT NOT NULL,
    status            TEXT NOT NULL,
    source_sandbox_id TEXT NOT NULL,
    source_name       TEXT NOT NULL,
    cpus              INTEGER NOT NULL,
    memory_mb         INTEGER NOT NULL,
    image             TEXT NOT NULL,
    size_bytes        INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    UNIQUE (user_id, name)
);
ALTER TABLE users ADD COLUMN max_snapshots INTEGER NOT NULL DEFAULT 5;

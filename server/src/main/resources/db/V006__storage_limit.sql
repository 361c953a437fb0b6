-- MB the user's named snapshots may take on disk in all.
ALTER TABLE users ADD COLUMN max_storage_mb INTEGER NOT NULL DEFAULT 20480;

-- Images users pulled, imported or saved: private to their owner, shared with named users.
-- Tiers (built-in images) are files only and have no row. Deleting an image removes its row and
-- file; sandboxes and snapshots made from it keep their own disks.
CREATE TABLE images (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    name        TEXT NOT NULL,
    source      TEXT NOT NULL,
    digest      TEXT NOT NULL,
    size_bytes  INTEGER NOT NULL,
    config      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE image_shares (
    image_id    TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (image_id, user_id)
);

-- A sandbox port published at <alias>.<proxy domain>. Aliases are global (they are host names).
CREATE TABLE publish_rules (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    sandbox_id  TEXT NOT NULL REFERENCES sandboxes(id),
    port        INTEGER NOT NULL,
    alias       TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    UNIQUE (sandbox_id, port)
);

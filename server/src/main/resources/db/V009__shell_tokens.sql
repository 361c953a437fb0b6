-- The web shell token of a sandbox (SHA-256 of it): one at a time; a new one replaces the old.
CREATE TABLE shell_tokens (
    sandbox_id  TEXT PRIMARY KEY REFERENCES sandboxes(id),
    token_hash  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

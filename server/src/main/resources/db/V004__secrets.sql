-- Secrets: values are age ciphertext (the key is <data_dir>/secrets.key, never in here).
CREATE TABLE secrets (
    user_id    TEXT NOT NULL REFERENCES users(id),
    name       TEXT NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, name)
);
-- Which secrets a sandbox was created with (names only), to hand them again after a cold boot.
CREATE TABLE sandbox_secrets (
    sandbox_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    PRIMARY KEY (sandbox_id, name)
);

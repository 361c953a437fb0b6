CREATE TABLE users (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL UNIQUE,
    api_key_hash         TEXT NOT NULL UNIQUE,
    max_sandboxes        INTEGER NOT NULL,
    max_cpus             INTEGER NOT NULL,
    max_memory_mb        INTEGER NOT NULL,
    created_at           TEXT NOT NULL
);

CREATE TABLE sandboxes (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    cpus        INTEGER NOT NULL,
    memory_mb   INTEGER NOT NULL,
    image       TEXT NOT NULL,
    engine      TEXT NOT NULL,
    accelerator TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (user_id, name)
);

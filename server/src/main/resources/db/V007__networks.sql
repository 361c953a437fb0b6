-- Each user's /24 from the pool: subnet_index-th /24 of it. An index is free again once its user is gone.
CREATE TABLE user_subnets (
    user_id      TEXT PRIMARY KEY REFERENCES users(id),
    subnet_index INTEGER NOT NULL UNIQUE
);

-- A sandbox's place on its user's network. The row owns the address, the MAC and the TAP: deleting it
-- (with the sandbox) returns them.
CREATE TABLE sandbox_networks (
    sandbox_id  TEXT PRIMARY KEY REFERENCES sandboxes(id),
    user_id     TEXT NOT NULL,
    ip          TEXT NOT NULL,
    mac         TEXT NOT NULL UNIQUE,
    tap         TEXT NOT NULL UNIQUE,
    egress      TEXT NOT NULL,
    allow_hosts TEXT NOT NULL DEFAULT '',
    UNIQUE (user_id, ip)
);

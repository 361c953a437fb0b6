-- Labels: key=value pairs a user sets on a sandbox to find it again (bhatti list --label k=v).
CREATE TABLE sandbox_labels (
    sandbox_id  TEXT NOT NULL REFERENCES sandboxes(id),
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (sandbox_id, key)
);

-- Templates: a user's saved create requests (spec is the create body as JSON, without name and template).
CREATE TABLE templates (
    user_id     TEXT NOT NULL REFERENCES users(id),
    name        TEXT NOT NULL,
    spec        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (user_id, name)
);

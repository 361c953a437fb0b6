-- Who did what, when: an append-only log for `bhatti admin events` and `admin status`.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT NOT NULL,
    type         TEXT NOT NULL,
    user_name    TEXT NOT NULL DEFAULT '',
    sandbox_name TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_at ON events (at);

-- A row of summary numbers every minute, for `bhatti admin metrics` (a short history without a Prometheus
-- server). api_requests and api_errors count since the row before; -1 is a host value that could not be read.
CREATE TABLE metrics_snapshots (
    at               TEXT PRIMARY KEY,
    sandboxes_hot    INTEGER NOT NULL,
    sandboxes_warm   INTEGER NOT NULL,
    sandboxes_cold   INTEGER NOT NULL,
    sandboxes_total  INTEGER NOT NULL,
    users            INTEGER NOT NULL,
    api_requests     INTEGER NOT NULL,
    api_errors       INTEGER NOT NULL,
    load1            REAL NOT NULL,
    memory_total_bytes     INTEGER NOT NULL,
    memory_available_bytes INTEGER NOT NULL
);

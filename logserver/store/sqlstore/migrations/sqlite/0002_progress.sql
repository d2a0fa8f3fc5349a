-- The progress updates a handler reported while it ran a request, many per
-- request. time is the consumer's clock, created_at the server's, both
-- Unix microseconds (UTC); data is JSON text or NULL. A request's updates
-- are told apart by their time.
CREATE TABLE rpc_progress (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    correlation_id TEXT    NOT NULL,
    time           INTEGER NOT NULL,
    state          TEXT    NOT NULL,
    message        TEXT    NOT NULL,
    percent        REAL,
    data           TEXT,
    created_at     INTEGER NOT NULL
);
-- A request's updates, in order; an identical repeat is found here.
CREATE UNIQUE INDEX rpc_progress_correlation_id ON rpc_progress (correlation_id, time);
-- Retention.
CREATE INDEX rpc_progress_created_at ON rpc_progress (created_at);

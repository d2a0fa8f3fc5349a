-- The progress updates a handler reported while it ran a request, many per
-- request. time is the consumer's clock, created_at the server's, both
-- Unix microseconds (UTC); data is JSON text or NULL. A request's updates
-- are told apart by their time.
CREATE TABLE rpc_progress (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    correlation_id TEXT COLLATE "C" NOT NULL,
    time           BIGINT NOT NULL,
    state          TEXT   NOT NULL,
    message        TEXT   NOT NULL,
    percent        DOUBLE PRECISION,
    data           TEXT,
    created_at     BIGINT NOT NULL
);
-- A request's updates, in order; an identical repeat is found here.
CREATE UNIQUE INDEX rpc_progress_correlation_id ON rpc_progress (correlation_id, time);
-- Retention.
CREATE INDEX rpc_progress_created_at ON rpc_progress (created_at, id);

-- One row per RPC: the request, and its response once there is one.
-- Times are Unix microseconds (UTC). correlation_id is compared byte-wise
-- (COLLATE "C"), so that a prefix is a range of the unique index.
CREATE TABLE rpc_pairs (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    correlation_id      TEXT COLLATE "C" NOT NULL,
    request_payload     TEXT    NOT NULL,
    virtual_host_name   TEXT    NOT NULL,
    queue_name          TEXT    NOT NULL,
    rabbitmq_username   TEXT    NOT NULL,
    hostname            TEXT    NOT NULL,
    exchange_name       TEXT    NOT NULL,
    created_at          BIGINT  NOT NULL,
    response_payload    TEXT,
    traceback           TEXT,
    response_created_at BIGINT,
    outcome             TEXT    NOT NULL
);
CREATE UNIQUE INDEX rpc_pairs_correlation_id ON rpc_pairs (correlation_id);
CREATE INDEX rpc_pairs_vhost ON rpc_pairs (virtual_host_name, id);
CREATE INDEX rpc_pairs_exchange ON rpc_pairs (exchange_name, id);
CREATE INDEX rpc_pairs_hostname ON rpc_pairs (hostname, id);
CREATE INDEX rpc_pairs_outcome ON rpc_pairs (outcome, id);
CREATE INDEX rpc_pairs_vhost_outcome ON rpc_pairs (virtual_host_name, outcome, id);
CREATE INDEX rpc_pairs_exchange_outcome ON rpc_pairs (exchange_name, outcome, id);
CREATE INDEX rpc_pairs_hostname_outcome ON rpc_pairs (hostname, outcome, id);
CREATE INDEX rpc_pairs_created_at ON rpc_pairs (created_at, id);

-- Pairs per outcome and group, kept by a trigger: counts for the common
-- filters without scanning the pairs.
CREATE TABLE rpc_counts (
    virtual_host_name TEXT   NOT NULL,
    exchange_name     TEXT   NOT NULL,
    hostname          TEXT   NOT NULL,
    outcome           TEXT   NOT NULL,
    n                 BIGINT NOT NULL,
    PRIMARY KEY (virtual_host_name, exchange_name, hostname, outcome)
);
CREATE FUNCTION rpc_pairs_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE rpc_counts SET n = n - 1 WHERE virtual_host_name = OLD.virtual_host_name
            AND exchange_name = OLD.exchange_name AND hostname = OLD.hostname AND outcome = OLD.outcome;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO rpc_counts VALUES (NEW.virtual_host_name, NEW.exchange_name, NEW.hostname, NEW.outcome, 1)
        ON CONFLICT (virtual_host_name, exchange_name, hostname, outcome) DO UPDATE SET n = rpc_counts.n + 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER rpc_pairs_count_insert_delete AFTER INSERT OR DELETE ON rpc_pairs
    FOR EACH ROW EXECUTE FUNCTION rpc_pairs_count();
CREATE TRIGGER rpc_pairs_count_update AFTER UPDATE OF outcome ON rpc_pairs
    FOR EACH ROW WHEN (OLD.outcome IS DISTINCT FROM NEW.outcome) EXECUTE FUNCTION rpc_pairs_count();

-- One row per RPC: the request, and its response once there is one.
-- Times are Unix microseconds (UTC).
CREATE TABLE rpc_pairs (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    correlation_id      TEXT    NOT NULL,
    request_payload     TEXT    NOT NULL,
    virtual_host_name   TEXT    NOT NULL,
    queue_name          TEXT    NOT NULL,
    rabbitmq_username   TEXT    NOT NULL,
    hostname            TEXT    NOT NULL,
    exchange_name       TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    response_payload    TEXT,
    traceback           TEXT,
    response_created_at INTEGER,
    outcome             TEXT    NOT NULL
);
-- Exact and prefix (range) search.
CREATE UNIQUE INDEX rpc_pairs_correlation_id ON rpc_pairs (correlation_id);
-- Newest first (keyset on id) under every filter.
CREATE INDEX rpc_pairs_vhost ON rpc_pairs (virtual_host_name, id);
CREATE INDEX rpc_pairs_exchange ON rpc_pairs (exchange_name, id);
CREATE INDEX rpc_pairs_hostname ON rpc_pairs (hostname, id);
CREATE INDEX rpc_pairs_outcome ON rpc_pairs (outcome, id);
CREATE INDEX rpc_pairs_vhost_outcome ON rpc_pairs (virtual_host_name, outcome, id);
CREATE INDEX rpc_pairs_exchange_outcome ON rpc_pairs (exchange_name, outcome, id);
CREATE INDEX rpc_pairs_hostname_outcome ON rpc_pairs (hostname, outcome, id);
-- Arrival time: time ranges (as ranges of ids), retention. (An SQLite
-- index holds the rowid, id, after its columns.)
CREATE INDEX rpc_pairs_created_at ON rpc_pairs (created_at);

-- Pairs per outcome and group, kept by triggers: counts for the common
-- filters without scanning the pairs.
CREATE TABLE rpc_counts (
    virtual_host_name TEXT    NOT NULL,
    exchange_name     TEXT    NOT NULL,
    hostname          TEXT    NOT NULL,
    outcome           TEXT    NOT NULL,
    n                 INTEGER NOT NULL,
    PRIMARY KEY (virtual_host_name, exchange_name, hostname, outcome)
);
CREATE TRIGGER rpc_pairs_count_insert AFTER INSERT ON rpc_pairs BEGIN
    INSERT INTO rpc_counts VALUES (NEW.virtual_host_name, NEW.exchange_name, NEW.hostname, NEW.outcome, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER rpc_pairs_count_update AFTER UPDATE OF outcome ON rpc_pairs WHEN OLD.outcome <> NEW.outcome BEGIN
    UPDATE rpc_counts SET n = n - 1 WHERE virtual_host_name = OLD.virtual_host_name
        AND exchange_name = OLD.exchange_name AND hostname = OLD.hostname AND outcome = OLD.outcome;
    INSERT INTO rpc_counts VALUES (NEW.virtual_host_name, NEW.exchange_name, NEW.hostname, NEW.outcome, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER rpc_pairs_count_delete AFTER DELETE ON rpc_pairs BEGIN
    UPDATE rpc_counts SET n = n - 1 WHERE virtual_host_name = OLD.virtual_host_name
        AND exchange_name = OLD.exchange_name AND hostname = OLD.hostname AND outcome = OLD.outcome;
END;

-- Several filters at once (exchange, outcome, virtual host, host) can match
-- a handful of pairs in millions. Without this index PostgreSQL answers
-- them by intersecting bitmaps of the per-column indexes, reading every
-- entry of the exchange's (a twentieth of the table at 1,000,000 pairs),
-- or by walking an index backwards through rows that do not match. Here
-- the four equalities are one range of the index, and a filter on the
-- host without the virtual host is checked inside the index, so only the
-- matching rows are read from the table. Exchange first: it is the column
-- with the most values. SQLite uses one index a query and reaches such
-- filters through rpc_pairs_exchange_outcome, so it does not need this one.
CREATE INDEX rpc_pairs_exchange_outcome_vhost_hostname
    ON rpc_pairs (exchange_name, outcome, virtual_host_name, hostname, id);

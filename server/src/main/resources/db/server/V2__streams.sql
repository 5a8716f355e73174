-- Stream requests: a public request (logs, events, exec) waiting on one server replica for bytes from a node. The
-- node's assignments list its rows until the agent answers (the row is then deleted) or they expire. The same SQL on
-- SQLite and PostgreSQL.
CREATE TABLE streams (
    id          TEXT PRIMARY KEY,
    node_id     TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    machine_id  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('logs', 'events', 'exec', 'exec_ws')),
    params      TEXT NOT NULL,
    body        TEXT,
    replica_id  TEXT NOT NULL,
    replica_url TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX streams_node ON streams (node_id, created_at);

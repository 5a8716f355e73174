-- Stream requests gain the kind 'stats' (GET …/machines/{id}/stats). A CHECK constraint cannot be altered on SQLite,
-- so the table is rebuilt, keeping the pending requests. The same SQL on SQLite and PostgreSQL.
CREATE TABLE streams_v18 (
    id          TEXT PRIMARY KEY,
    node_id     TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    machine_id  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('logs', 'events', 'stats', 'exec', 'exec_ws')),
    params      TEXT NOT NULL,
    body        TEXT,
    replica_id  TEXT NOT NULL,
    replica_url TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
INSERT INTO streams_v18 (id, node_id, machine_id, kind, params, body, replica_id, replica_url, created_at)
    SELECT id, node_id, machine_id, kind, params, body, replica_id, replica_url, created_at FROM streams;
DROP TABLE streams;
ALTER TABLE streams_v18 RENAME TO streams;
CREATE INDEX streams_node ON streams (node_id, created_at);

-- Volume moves (dev.bolero.server.cluster.VolumeMoves): a volume copied block by block from its node (from_node) to
-- another (to_node), pass after pass (pass: the one the target is asked for; reported_pass: the last it verified, and
-- its digest), its machine (machine_id) stopped only for the final pass. At most one unfinished move per volume. Its
-- steps are its history. Both go with their namespace.
CREATE TABLE volume_moves (
    id            TEXT PRIMARY KEY,
    namespace     TEXT NOT NULL REFERENCES namespaces (name) ON DELETE CASCADE,
    volume        TEXT NOT NULL,
    volume_id     TEXT NOT NULL,
    from_node     TEXT NOT NULL,
    to_node       TEXT NOT NULL,
    machine_id    TEXT,
    state         TEXT NOT NULL,
    pass          INTEGER NOT NULL,
    reported_pass INTEGER NOT NULL DEFAULT 0,
    digest        TEXT,
    error         TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX volume_moves_volume ON volume_moves (namespace, volume);
CREATE INDEX volume_moves_to ON volume_moves (to_node, state);
CREATE TABLE volume_move_steps (
    move_id TEXT NOT NULL REFERENCES volume_moves (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    at      BIGINT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (move_id, seq)
);
-- Stream requests gain the kind 'volume' (a pass of a moving volume's blocks, from its node's
-- GET /api/v1/volumes/{id}/blocks); the table is rebuilt as in V18, keeping the pending requests.
CREATE TABLE streams_v24 (
    id          TEXT PRIMARY KEY,
    node_id     TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    machine_id  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('logs', 'events', 'stats', 'exec', 'exec_ws', 'volume')),
    params      TEXT NOT NULL,
    body        TEXT,
    replica_id  TEXT NOT NULL,
    replica_url TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
INSERT INTO streams_v24 (id, node_id, machine_id, kind, params, body, replica_id, replica_url, created_at)
    SELECT id, node_id, machine_id, kind, params, body, replica_id, replica_url, created_at FROM streams;
DROP TABLE streams;
ALTER TABLE streams_v24 RENAME TO streams;
CREATE INDEX streams_node ON streams (node_id, created_at);

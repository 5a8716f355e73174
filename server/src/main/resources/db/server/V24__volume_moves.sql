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

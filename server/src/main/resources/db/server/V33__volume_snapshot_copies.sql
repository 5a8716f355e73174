-- Off-node copies of volume snapshots (dev.bolero.server.cluster.Volumes): each snapshot taken on its volume's node
-- (volume_snapshots.node_id) is copied block by block to another node (node_id here) through the control plane's
-- relay, verified there against the source's digest (digest), so that the snapshot outlives the loss of its volume's
-- node. state: COPYING, VERIFIED or FAILED; attempts counts the pulls tried (a failed one is retried under a new id,
-- up to a bound); error says why the last failed. Copies go with their snapshot.
CREATE TABLE volume_snapshot_copies (
    id          TEXT PRIMARY KEY,
    snapshot_id TEXT NOT NULL REFERENCES volume_snapshots (id) ON DELETE CASCADE,
    node_id     TEXT NOT NULL,
    state       TEXT NOT NULL,
    digest      TEXT,
    error       TEXT,
    attempts    INTEGER NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (snapshot_id, node_id)
);
CREATE INDEX volume_snapshot_copies_node ON volume_snapshot_copies (node_id);

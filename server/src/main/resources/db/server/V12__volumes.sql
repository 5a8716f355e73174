-- Volumes (dev.bolero.server.volumes): a namespace's block devices that outlive machines. A volume lives on at most
-- one node (node_id, set when the first machine mounting it is placed) and is attached to at most one machine
-- (machine_id; it stays set after that machine's row is gone, and counts as attached only while the row exists).
CREATE TABLE volumes (
    namespace  TEXT NOT NULL REFERENCES namespaces (name) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    id         TEXT NOT NULL UNIQUE,
    size_gb    INTEGER NOT NULL,
    region     TEXT,
    node_id    TEXT,
    machine_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (namespace, name)
);
CREATE INDEX volumes_node ON volumes (node_id);
-- A volume's snapshots: copies of its data kept on its node (taken while it is detached), each able to seed a new
-- volume on that node. They go with their volume.
CREATE TABLE volume_snapshots (
    id         TEXT PRIMARY KEY,
    namespace  TEXT NOT NULL,
    volume     TEXT NOT NULL,
    node_id    TEXT NOT NULL,
    size_gb    INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (namespace, volume) REFERENCES volumes (namespace, name) ON DELETE CASCADE
);
ALTER TABLE volumes ADD COLUMN source_snapshot TEXT;

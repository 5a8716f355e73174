-- A fork's clones (dev.bolero.server.cluster.ControlPlane#fork): the machine whose live state each clone starts from.
-- Its node resumes the clone from a snapshot of that machine taken when the clone is created there (the clone is
-- placed on the source's node); a clone created anywhere else (moved after a node loss) boots cold.
CREATE TABLE machine_forks (
    machine_id TEXT PRIMARY KEY REFERENCES machines (id) ON DELETE CASCADE,
    source_id  TEXT NOT NULL
);

-- A namespace's quota (dev.bolero.server.cluster.Quotas): the most it may hold of each resource; a null limit is
-- unlimited, and a namespace without a row has no limits. Usage is not stored: it is counted from machines and volumes
-- in the write transaction that would grow it.
CREATE TABLE namespace_quotas (
    namespace  TEXT PRIMARY KEY REFERENCES namespaces (name) ON DELETE CASCADE,
    machines   INTEGER,
    vcpus      INTEGER,
    memory_mib INTEGER,
    volumes    INTEGER,
    volume_gib INTEGER,
    updated_at BIGINT NOT NULL
);
-- What a namespace's machines hold, counted from this index alone (not the rows with their specs) at each create.
CREATE INDEX machines_usage ON machines (namespace, desired_state, cpus, memory_mb);

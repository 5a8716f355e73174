-- The audit log (dev.bolero.server.audit): every mutating API call, append-only, one hash chain per namespace and one
-- (chain '') for the cluster's own objects. No foreign keys: entries outlive the namespaces and tokens they name.
CREATE TABLE audit (
    chain     TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    token_id  TEXT,
    namespace TEXT,
    action    TEXT NOT NULL,
    object    TEXT NOT NULL,
    status    INTEGER NOT NULL,
    source    TEXT,
    hash      TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
);
CREATE INDEX audit_by_time ON audit (chain, at);

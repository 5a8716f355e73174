-- Custom host names (dev.bolero.server.cluster.Hostnames): a name routes to one fleet and is claimed by one namespace
-- across the cluster (its primary key). A tenant's uploaded certificate is kept as its PEM chain (public) and its key
-- sealed with the namespace's data key (namespace_keys, V10), base64, and its leaf's fingerprint (what the gateways'
-- routes name); none is set when the gateways use ACME.
CREATE TABLE hostnames (
    hostname     TEXT PRIMARY KEY,
    namespace    TEXT NOT NULL,
    fleet        TEXT NOT NULL,
    cert_chain   TEXT,
    cert_key     TEXT,
    cert_fingerprint TEXT,
    cert_version BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    FOREIGN KEY (namespace, fleet) REFERENCES fleets (namespace, name) ON DELETE CASCADE
);
CREATE INDEX hostnames_fleet ON hostnames (namespace, fleet);

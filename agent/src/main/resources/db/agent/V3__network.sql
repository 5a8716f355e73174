-- The node network's allocations (dev.bolero.network.AllocationStore): a subnet and bridge per namespace, an
-- address, MAC and tap per machine. UNIQUE constraints make a duplicate address or device impossible.
CREATE TABLE network_namespaces (
    namespace TEXT PRIMARY KEY,
    idx       INTEGER NOT NULL UNIQUE,
    subnet    TEXT NOT NULL UNIQUE,
    bridge    TEXT NOT NULL UNIQUE
);

CREATE TABLE network_machines (
    machine_id TEXT PRIMARY KEY,
    namespace  TEXT NOT NULL REFERENCES network_namespaces (namespace),
    ip         TEXT NOT NULL UNIQUE,
    mac        TEXT NOT NULL UNIQUE,
    tap        TEXT NOT NULL UNIQUE,
    egress     INTEGER NOT NULL,
    services   TEXT NOT NULL
);

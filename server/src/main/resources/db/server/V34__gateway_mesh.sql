-- Gateways in the private network's WireGuard mesh (dev.bolero.server.cluster.GatewayMesh): one row per registered
-- gateway, keyed by its public key, with the index of its address in the plan's infrastructure range (unique) and
-- the end of its lease (epoch milliseconds); an expired row is deleted and the nodes drop the peer.
CREATE TABLE gateway_peers (
    id            TEXT PRIMARY KEY,
    public_key    TEXT NOT NULL UNIQUE,
    endpoint      TEXT NOT NULL,
    address_index INTEGER NOT NULL UNIQUE,
    expires_at    BIGINT NOT NULL
);

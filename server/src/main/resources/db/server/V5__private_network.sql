-- The private network (docs/private-network.md): a node that takes part in it has an index in the address plan
-- (fixed for its life; unique), its WireGuard public key, endpoint and kind; a namespace gets an index the first time
-- one of its machines is assigned to such a node; a machine's private address is the one its node reported. The same
-- SQL on SQLite and PostgreSQL (both allow many NULLs under a unique index).
ALTER TABLE nodes ADD COLUMN private_index INTEGER;
ALTER TABLE nodes ADD COLUMN public_key TEXT;
ALTER TABLE nodes ADD COLUMN endpoint TEXT;
ALTER TABLE nodes ADD COLUMN wireguard_kind TEXT;
CREATE UNIQUE INDEX nodes_private_index ON nodes (private_index);
CREATE TABLE namespace_indexes (
    namespace     TEXT PRIMARY KEY,
    private_index INTEGER NOT NULL UNIQUE
);
ALTER TABLE machines ADD COLUMN private_ip TEXT;

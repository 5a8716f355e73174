-- The private network's address plan (docs/private-network.md): the pool and how its bits split between nodes,
-- namespaces and hosts. One row, written when a server first starts; fixed once a node, namespace or gateway holds an
-- index of it. An older cluster (no row, indexes taken) was made with the default plan, which its next start stores.
CREATE TABLE private_network_plan (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    pool           TEXT NOT NULL,
    node_bits      INTEGER NOT NULL,
    namespace_bits INTEGER NOT NULL
);

-- The assignment generation the agent last applied to each control-plane machine (docs/cluster-protocol.md §2).
CREATE TABLE cluster_generations (
    machine_id TEXT PRIMARY KEY,
    generation INTEGER NOT NULL
);

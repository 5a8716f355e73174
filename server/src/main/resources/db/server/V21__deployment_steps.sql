-- A deployment's steps (dev.bolero.api.wire.DeployStep): what the control plane did for it, in order (seq from 1),
-- shown with the deployment. They go with their deployment. The same SQL on SQLite and PostgreSQL.
CREATE TABLE deployment_steps (
    deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    seq           BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('started', 'creating', 'replacing', 'removing', 'healthy',
                                               'rolling_back', 'succeeded', 'rolled_back', 'failed')),
    machine_id    TEXT,
    message       TEXT NOT NULL,
    PRIMARY KEY (deployment_id, seq)
);

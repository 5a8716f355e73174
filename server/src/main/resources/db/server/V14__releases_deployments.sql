-- Checks, releases and deployments. The same SQL on SQLite and PostgreSQL.
-- A machine's health checks as its node last reported them (JSON list of {name, status, output, updated_at}); NULL:
-- none reported.
ALTER TABLE machines ADD COLUMN checks TEXT;

-- A fleet's releases: each version of its machine config (fleets.config_version numbers them; a fleet's current
-- version is the release its new machines are made from). Fleets made before this migration get their current
-- config as a release.
CREATE TABLE releases (
    namespace  TEXT NOT NULL,
    fleet      TEXT NOT NULL,
    version    BIGINT NOT NULL,
    config     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (namespace, fleet, version),
    FOREIGN KEY (namespace, fleet) REFERENCES fleets (namespace, name) ON DELETE CASCADE
);
INSERT INTO releases (namespace, fleet, version, config, created_at)
    SELECT namespace, name, config_version, config, updated_at FROM fleets;

-- Deployments: a fleet moving from one release to another under a strategy. The reconciler drives the one whose
-- status is 'running' or 'rolling_back' (at most one per fleet) from the fleet's machines alone, so a deployment
-- survives the server that started it.
CREATE TABLE deployments (
    id           TEXT PRIMARY KEY,
    namespace    TEXT NOT NULL,
    fleet        TEXT NOT NULL,
    from_version BIGINT NOT NULL,
    to_version   BIGINT NOT NULL,
    policy       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'rolling_back', 'rolled_back', 'failed')),
    message      TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    FOREIGN KEY (namespace, fleet) REFERENCES fleets (namespace, name) ON DELETE CASCADE
);
CREATE INDEX deployments_fleet ON deployments (namespace, fleet, created_at);
-- At most one active deployment per fleet, even with several server replicas starting one at once.
CREATE UNIQUE INDEX deployments_active ON deployments (namespace, fleet)
    WHERE status IN ('running', 'rolling_back');

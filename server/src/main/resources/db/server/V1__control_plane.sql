-- The control plane's schema. Portable between SQLite and PostgreSQL: TEXT, INTEGER and BIGINT only, instants as
-- epoch milliseconds, JSON documents as TEXT.

-- One row: the state index, bumped by every write that changes what some node must run.
CREATE TABLE state_index (
    id    INTEGER PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO state_index (id, value) VALUES (1, 0);

CREATE TABLE namespaces (
    name       TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);

CREATE TABLE nodes (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    health             TEXT NOT NULL CHECK (health IN ('ready', 'down')),
    admin_state        TEXT NOT NULL CHECK (admin_state IN ('ready', 'cordoned', 'draining')),
    labels             TEXT NOT NULL,
    drivers            TEXT NOT NULL,
    capacity_cpus      INTEGER NOT NULL,
    capacity_memory_mb BIGINT NOT NULL,
    heartbeat_at       BIGINT NOT NULL,
    assign_index       BIGINT NOT NULL,
    joined_at          BIGINT NOT NULL
);

-- Every bearer credential, stored as the hex SHA-256 of the token. 'admin' and 'join' rows have fixed ids.
CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    scope      TEXT NOT NULL CHECK (scope IN ('admin', 'join', 'namespace', 'node')),
    namespace  TEXT REFERENCES namespaces (name) ON DELETE CASCADE,
    node_id    TEXT REFERENCES nodes (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);

CREATE TABLE fleets (
    namespace  TEXT NOT NULL REFERENCES namespaces (name) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    config     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (namespace, name)
);

-- Desired state (config, desired_state, generation, node_id) is written by the API and the loops; observed state
-- (observed_state, image_digest, exit_code, error) by the heartbeats of the node the machine is on.
CREATE TABLE machines (
    id             TEXT PRIMARY KEY,
    namespace      TEXT NOT NULL,
    fleet          TEXT NOT NULL,
    name           TEXT NOT NULL,
    config         TEXT NOT NULL,
    cpus           INTEGER NOT NULL,
    memory_mb      BIGINT NOT NULL,
    region         TEXT,
    node_labels    TEXT NOT NULL,
    restart        TEXT NOT NULL,
    desired_state  TEXT NOT NULL CHECK (desired_state IN ('running', 'stopped', 'destroyed')),
    stop_request   TEXT,
    generation     BIGINT NOT NULL,
    node_id        TEXT REFERENCES nodes (id),
    observed_state TEXT NOT NULL,
    image_digest   TEXT,
    exit_code      INTEGER,
    error          TEXT,
    modify_index   BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    FOREIGN KEY (namespace, fleet) REFERENCES fleets (namespace, name),
    UNIQUE (namespace, name)
);
CREATE INDEX machines_node ON machines (node_id);
CREATE INDEX machines_namespace ON machines (namespace, fleet);

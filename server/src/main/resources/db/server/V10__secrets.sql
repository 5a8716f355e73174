-- Secrets, encrypted at rest (dev.bolero.server.secrets): each namespace's data key, wrapped by a master key, and its
-- secrets' values sealed with that data key. Nothing here is readable without the master key, which is not stored.
-- Binary values are base64 TEXT, portable between SQLite and PostgreSQL.
CREATE TABLE namespace_keys (
    namespace  TEXT PRIMARY KEY REFERENCES namespaces (name) ON DELETE CASCADE,
    wrapped    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE secrets (
    namespace  TEXT NOT NULL REFERENCES namespaces (name) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    sealed     TEXT NOT NULL,
    digest     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (namespace, name)
);

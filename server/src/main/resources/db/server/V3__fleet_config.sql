-- A fleet's machine config lives in its config document (fleets.config, JSON). Its version counts the updates that
-- changed it; each machine records the version it was created from, so a fleet can tell how many machines run an
-- older config. Rows made before this migration are version 1. The same SQL on SQLite and PostgreSQL.
ALTER TABLE fleets ADD COLUMN config_version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE machines ADD COLUMN config_version BIGINT NOT NULL DEFAULT 1;

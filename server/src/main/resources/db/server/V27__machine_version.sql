-- A machine's own version: 1 at creation, bumped by each in-place update of its config (POST …/machines/{id}).
ALTER TABLE machines ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

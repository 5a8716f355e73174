ALTER TABLE machines ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0;

CREATE TABLE machine_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    machine_id TEXT NOT NULL,
    type       TEXT NOT NULL,
    state      TEXT NOT NULL,
    reason     TEXT,
    exit_code  INTEGER,
    detail     TEXT NOT NULL,
    time       TEXT NOT NULL
);
CREATE INDEX machine_events_by_machine ON machine_events (machine_id, id);

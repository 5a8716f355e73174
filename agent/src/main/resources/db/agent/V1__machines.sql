CREATE TABLE machines (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    state        TEXT NOT NULL,
    config       TEXT NOT NULL,
    image_digest TEXT,
    exit_code    INTEGER,
    error        TEXT,
    vm_handle    TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

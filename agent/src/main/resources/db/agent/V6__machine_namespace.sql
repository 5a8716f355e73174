-- A machine's namespace is a column of its row, beside its MachineSpec (config, JSON), which no longer names it.
-- Rows made before this migration take it out of their config document.
ALTER TABLE machines ADD COLUMN namespace TEXT NOT NULL DEFAULT 'default';
UPDATE machines SET namespace = COALESCE(json_extract(config, '$.namespace'), 'default'),
                    config = json_remove(config, '$.namespace');

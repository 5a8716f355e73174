-- Whether a volume move stopped its machine for the final pass (dev.bolero.server.cluster.VolumeMoves): the machine is
-- started again where the volume ends up, whether the move succeeds, fails or is taken over after its driver went away,
-- and a machine that was already stopped is left so. A move in its final pass when this came in was assumed to have
-- stopped its machine (as the code before did).
ALTER TABLE volume_moves ADD COLUMN stopped_machine INTEGER NOT NULL DEFAULT 0;
UPDATE volume_moves SET stopped_machine = 1 WHERE state = 'FINAL_PASS' AND machine_id IS NOT NULL;
-- The leader looks for unfinished moves whose driver went away.
CREATE INDEX volume_moves_state ON volume_moves (state, updated_at);

-- Why a fleet that keeps a size lacks machines: per share of the fleet (a region, or none for a fleet with one count),
-- the reason the control plane's last create failed (the scheduler's refusal naming the region, a quota, …), as a
-- JSON list of {region, reason}; NULL when nothing failed. Written by the reconciler only when it changes. The same
-- SQL on SQLite and PostgreSQL.
ALTER TABLE fleets ADD COLUMN waiting TEXT;

-- advertise_url is the base URL at which the current leader's API is
-- reached by the other replicas (the configuration key advertise_url), so
-- that followers can pass the dashboard's live reads on to it. NULL until
-- the leader publishes one, and cleared whenever the lease changes hands.
ALTER TABLE leader_lease ADD COLUMN advertise_url TEXT;

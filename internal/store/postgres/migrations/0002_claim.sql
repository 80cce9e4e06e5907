-- The rows still owed of each destination in id order: a claim of one
-- destination walks its own rows oldest first and stops at its limit, so
-- rows owed to other destinations (tens of thousands while one is down)
-- cost it nothing. outbox_open_id has no destination, so a claim through it
-- would pass every other destination's rows to find its own.
CREATE INDEX outbox_claim ON outbox (destination, id) WHERE status IN ('pending', 'inflight');

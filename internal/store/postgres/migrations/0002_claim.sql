-- The rows still owed of each destination in id order: a claim of one
-- destination walks its own rows oldest first and stops at its limit, so
-- rows owed to other destinations (tens of thousands while one is down)
-- cost it nothing; outbox_open_id has no destination, so a claim through it
-- passes every other destination's rows to find its own.
--
-- destination <> '' holds for every row (commits refuse empty names). Only
-- the claim states it, so only the claim can use this index: the per-key
-- order check (destination, key, older id) must probe outbox_open, and
-- with statistics that do not yet show a storm's rows PostgreSQL could
-- otherwise take this index for it and read every older row of the
-- destination at each probe.
CREATE INDEX outbox_claim ON outbox (destination, id)
	WHERE status IN ('pending', 'inflight') AND destination <> '';

-- Claims read pending rows of a destination oldest first and stop at their
-- limit, and find expired leases by time, instead of reading every open row
-- of the destination (see sqlClaim).
CREATE INDEX outbox_due ON outbox (destination, id) WHERE status = 'pending';
CREATE INDEX outbox_leased ON outbox (destination, lease_until) WHERE status = 'inflight';

-- The time from which each owed row may be claimed: its next attempt while
-- pending, the end of its lease while in flight. NextDue reads the earliest
-- from this index instead of every owed row (84,000 of them while a
-- destination is down); sqlNextDue states the same expression and
-- condition.
CREATE INDEX outbox_due_at ON outbox ((CASE status WHEN 'pending' THEN next_attempt_at ELSE lease_until END))
	WHERE status IN ('pending', 'inflight');

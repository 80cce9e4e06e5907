-- Initial schema. Times are INTEGER nanoseconds since the Unix epoch (UTC);
-- 0 stands for the zero time. Commit writes to series, episodes,
-- transitions and outbox for every transition, so those tables carry as few
-- indexes as their readers allow.

-- series holds the latest state of every series ever committed. Its episode
-- is usually the episodes row named by episode_id rather than a copy.
-- LoadSeries runs once at start, so the "live" filter needs no index.
CREATE TABLE series (
	key          TEXT    PRIMARY KEY,
	state        TEXT    NOT NULL,
	episode_open INTEGER NOT NULL, -- 1 when the state's episode has not ended
	episode_id   TEXT    NOT NULL, -- the episodes row holding the state's episode, or ''
	version      INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	data         TEXT    NOT NULL  -- alert.SeriesState as JSON, without the episode when episode_id is set
) STRICT;

-- episodes holds every firing period, replaced by each transition of it.
CREATE TABLE episodes (
	id       TEXT    PRIMARY KEY,
	key      TEXT    NOT NULL,
	rule     TEXT    NOT NULL,
	queue_id TEXT    NOT NULL,
	start_at INTEGER NOT NULL,
	end_at   INTEGER NOT NULL, -- 0 while the episode is open
	worst    REAL    NOT NULL,
	priority TEXT    NOT NULL,
	data     TEXT    NOT NULL  -- alert.Episode as JSON
) STRICT;

-- Scanned backwards for newest first (the primary key id breaks ties).
CREATE INDEX episodes_key ON episodes (key, start_at);

-- transitions is the history: every committed transition, never changed.
CREATE TABLE transitions (
	id   INTEGER PRIMARY KEY,
	key  TEXT    NOT NULL,
	at   INTEGER NOT NULL,
	data TEXT    NOT NULL -- alert.Transition as JSON, without Series
) STRICT;

-- Scanned backwards for newest first (the rowid breaks ties).
CREATE INDEX transitions_key ON transitions (key, at);

-- outbox holds one row per transition and destination owed a notification.
-- AUTOINCREMENT: delivery ids are handed out by the API and never reused.
CREATE TABLE outbox (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	destination     TEXT    NOT NULL,
	key             TEXT    NOT NULL,
	episode_id      TEXT    NOT NULL,
	action          TEXT    NOT NULL,
	transition_id   INTEGER NOT NULL, -- the transitions row, shared by the destinations
	status          TEXT    NOT NULL CHECK (status IN ('pending', 'inflight', 'sent', 'dead')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	last_error      TEXT    NOT NULL DEFAULT '',
	claimed_by      TEXT    NOT NULL DEFAULT '',
	lease_until     INTEGER NOT NULL DEFAULT 0,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	sent_at         INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Rows still owed, usually few: the claim scan, the per-key order check,
-- PendingCounts and NextDue all read this index only.
CREATE INDEX outbox_open ON outbox (destination, key, id) WHERE status IN ('pending', 'inflight');
-- Dead rows, listed for operators; rows become dead after they were written.
CREATE INDEX outbox_dead ON outbox (id) WHERE status = 'dead';
-- Deliveries of one alert key or episode, found through the transitions of
-- the key: unlike an index on key, this one only grows at its end, which
-- keeps large commits cheap.
CREATE INDEX outbox_transition ON outbox (transition_id);

-- delivery_attempts is the delivery log.
CREATE TABLE delivery_attempts (
	id          INTEGER PRIMARY KEY,
	delivery_id INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
	at          INTEGER NOT NULL,
	status      TEXT    NOT NULL,
	error       TEXT    NOT NULL,
	code        INTEGER NOT NULL,
	duration_ns INTEGER NOT NULL
) STRICT;

CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);

-- refs holds each destination's handle on an episode's notification.
CREATE TABLE refs (
	destination TEXT    NOT NULL,
	episode_id  TEXT    NOT NULL,
	key         TEXT    NOT NULL,
	value       TEXT    NOT NULL,
	updated_at  INTEGER NOT NULL,
	PRIMARY KEY (destination, episode_id)
) STRICT, WITHOUT ROWID;

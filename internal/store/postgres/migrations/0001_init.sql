-- Initial schema. Times are BIGINT nanoseconds since the Unix epoch (UTC),
-- as in the SQLite store; 0 stands for the zero time. Commit writes to
-- series, episodes, transitions and outbox for every transition, so those
-- tables carry as few indexes as their readers allow.

-- series holds the latest state of every series ever committed. Its episode
-- is usually the episodes row named by episode_id rather than a copy.
CREATE TABLE series (
	key          TEXT    PRIMARY KEY,
	state        TEXT    NOT NULL,
	episode_open BOOLEAN NOT NULL, -- the state's episode has not ended
	episode_id   TEXT    NOT NULL, -- the episodes row holding the state's episode, or ''
	version      BIGINT  NOT NULL,
	updated_at   BIGINT  NOT NULL,
	data         TEXT    NOT NULL  -- alert.SeriesState as JSON, without the episode when episode_id is set
);

-- episodes holds every firing period, replaced by each transition of it.
CREATE TABLE episodes (
	id       TEXT             PRIMARY KEY,
	key      TEXT             NOT NULL,
	rule     TEXT             NOT NULL,
	queue_id TEXT             NOT NULL,
	start_at BIGINT           NOT NULL,
	end_at   BIGINT           NOT NULL, -- 0 while the episode is open
	worst    DOUBLE PRECISION NOT NULL,
	priority TEXT             NOT NULL,
	data     TEXT             NOT NULL  -- alert.Episode as JSON
);

CREATE INDEX episodes_key ON episodes (key, start_at);

-- transitions is the history: every committed transition, never changed.
CREATE TABLE transitions (
	id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key  TEXT   NOT NULL,
	at   BIGINT NOT NULL,
	data TEXT   NOT NULL -- alert.Transition as JSON, without Series
);

CREATE INDEX transitions_key ON transitions (key, at);

-- outbox holds one row per transition and destination owed a notification.
-- Identity values come from a sequence and are never reused.
CREATE TABLE outbox (
	id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	destination     TEXT   NOT NULL,
	key             TEXT   NOT NULL,
	episode_id      TEXT   NOT NULL,
	action          TEXT   NOT NULL,
	transition_id   BIGINT NOT NULL REFERENCES transitions (id),
	status          TEXT   NOT NULL CHECK (status IN ('pending', 'inflight', 'sent', 'dead')),
	attempts        INT    NOT NULL DEFAULT 0,
	next_attempt_at BIGINT NOT NULL,
	last_error      TEXT   NOT NULL DEFAULT '',
	claimed_by      TEXT   NOT NULL DEFAULT '',
	lease_until     BIGINT NOT NULL DEFAULT 0,
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL,
	sent_at         BIGINT NOT NULL DEFAULT 0
);

-- Rows still owed, usually few: the claim scan, the per-key order check,
-- PendingCounts and NextDue read this index.
CREATE INDEX outbox_open ON outbox (destination, key, id) WHERE status IN ('pending', 'inflight');
-- The same rows in id order: a claim walks them oldest first without
-- passing the (many) rows already sent.
CREATE INDEX outbox_open_id ON outbox (id) WHERE status IN ('pending', 'inflight');
CREATE INDEX outbox_dead ON outbox (id) WHERE status = 'dead';
CREATE INDEX outbox_transition ON outbox (transition_id);

-- delivery_attempts is the delivery log.
CREATE TABLE delivery_attempts (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	delivery_id BIGINT NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
	at          BIGINT NOT NULL,
	status      TEXT   NOT NULL,
	error       TEXT   NOT NULL,
	code        INT    NOT NULL,
	duration_ns BIGINT NOT NULL
);

CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);

-- refs holds each destination's handle on an episode's notification.
CREATE TABLE refs (
	destination TEXT   NOT NULL,
	episode_id  TEXT   NOT NULL,
	key         TEXT   NOT NULL,
	value       TEXT   NOT NULL,
	updated_at  BIGINT NOT NULL,
	PRIMARY KEY (destination, episode_id)
);

-- silences hold back new pages of matching alerts for a while.
CREATE TABLE silences (
	id         TEXT   PRIMARY KEY,
	queues     TEXT   NOT NULL, -- JSON array of queue names, globs or ids
	rule       TEXT   NOT NULL,
	starts_at  BIGINT NOT NULL,
	ends_at    BIGINT NOT NULL,
	comment    TEXT   NOT NULL,
	created_by TEXT   NOT NULL,
	created_at BIGINT NOT NULL
);

-- leader_lease is the leadership of the replicas sharing this database: one
-- row per election, held by holder until expires_at (the database's clock).
-- epoch grows by one at every change of holder; commits of the leader are
-- conditional on it (fencing).
CREATE TABLE leader_lease (
	name       TEXT        PRIMARY KEY,
	holder     TEXT        NOT NULL,
	epoch      BIGINT      NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);

-- inbox holds samples accepted by any replica's webhook until the leader
-- has evaluated them: one row per request, its samples as a JSON array.
CREATE TABLE inbox (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	samples     TEXT        NOT NULL
);

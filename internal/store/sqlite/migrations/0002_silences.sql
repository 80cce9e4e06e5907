-- silences hold back new pages of matching alerts for a while.
CREATE TABLE silences (
	id         TEXT    PRIMARY KEY,
	queues     TEXT    NOT NULL, -- JSON array of queue names, globs or ids
	rule       TEXT    NOT NULL,
	starts_at  INTEGER NOT NULL,
	ends_at    INTEGER NOT NULL,
	comment    TEXT    NOT NULL,
	created_by TEXT    NOT NULL,
	created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

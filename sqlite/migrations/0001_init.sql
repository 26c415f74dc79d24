-- skyfence schema, version 1.
--
-- Every time is an INTEGER of nanoseconds since the Unix epoch, UTC; NULL is
-- the zero time.Time. Text codes (status, class, role, state) are the String
-- forms of the Go types.

CREATE TABLE accounts (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at INTEGER
) STRICT;

CREATE TABLE terminals (
	id         TEXT PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts (id),
	plan       TEXT NOT NULL,
	country    TEXT NOT NULL,
	status     TEXT NOT NULL CHECK (status IN ('inactive', 'active', 'suspended', 'deactivated')),
	groups     TEXT NOT NULL DEFAULT '[]', -- a JSON array of strings
	cell       TEXT NOT NULL DEFAULT '', -- the capacity cell it was activated in
	created_at INTEGER,
	updated_at INTEGER
) STRICT;

-- One index per filter of FindTerminals, each ending in id for the cursor.
CREATE INDEX terminals_account ON terminals (account_id, id);
CREATE INDEX terminals_country ON terminals (country, id);
CREATE INDEX terminals_plan ON terminals (plan, id);
CREATE INDEX terminals_status ON terminals (status, id);

CREATE TABLE verifications (
	id          TEXT PRIMARY KEY,
	terminal_id TEXT NOT NULL REFERENCES terminals (id),
	region      TEXT NOT NULL,
	authority   TEXT NOT NULL,
	class       TEXT NOT NULL CHECK (class IN ('civil', 'government', 'military')),
	verified_at INTEGER,
	expires_at  INTEGER,
	revoked     INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
	revoked_at  INTEGER
) STRICT;

CREATE INDEX verifications_terminal ON verifications (terminal_id, id);
CREATE INDEX verifications_region ON verifications (region, id);

CREATE TABLE api_keys (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL,
	region     TEXT NOT NULL,
	person     TEXT NOT NULL, -- who holds the key
	hash       BLOB NOT NULL UNIQUE,
	created_at INTEGER,
	revoked_at INTEGER
) STRICT;

-- A cell has a row once its capacity is set or a terminal claims a place in
-- it. capacity 0 is unlimited; active counts its members in state 'active'.
CREATE TABLE cells (
	id       TEXT PRIMARY KEY,
	capacity INTEGER NOT NULL DEFAULT 0 CHECK (capacity >= 0),
	active   INTEGER NOT NULL DEFAULT 0 CHECK (active >= 0)
) STRICT;

-- seq orders the waitlist: a new row's rowid is larger than every existing
-- one, so the smallest seq of a cell's waiting members is the head.
CREATE TABLE cell_members (
	seq         INTEGER PRIMARY KEY,
	cell_id     TEXT NOT NULL REFERENCES cells (id),
	terminal_id TEXT NOT NULL REFERENCES terminals (id),
	state       TEXT NOT NULL CHECK (state IN ('active', 'waiting')),
	UNIQUE (cell_id, terminal_id)
) STRICT;

CREATE INDEX cell_members_queue ON cell_members (cell_id, state, seq);

-- No foreign key to terminals: the write-behind of ingest may record the
-- state of a terminal the registry does not know (it was denied), and one
-- such state must not fail a whole batch.
CREATE TABLE terminal_states (
	terminal_id TEXT PRIMARY KEY,
	fix_time    INTEGER,
	lat         REAL NOT NULL,
	lon         REAL NOT NULL,
	alt_m       REAL NOT NULL,
	speed_kmh   REAL NOT NULL,
	cell        TEXT NOT NULL,
	allow       INTEGER NOT NULL CHECK (allow IN (0, 1)),
	reason      TEXT NOT NULL,
	rule        TEXT NOT NULL,
	country     TEXT NOT NULL,
	policy      TEXT NOT NULL,
	decided_at  INTEGER,
	track       BLOB
) STRICT, WITHOUT ROWID;

-- An alert of detection, upserted by id as it updates: its whole
-- detect.Alert as JSON (data, byte for byte), with the fields that select
-- and order alerts copied into columns. No foreign key to terminals, as for
-- terminal_states: detection may flag a terminal the registry does not know.
CREATE TABLE alerts (
	id          TEXT PRIMARY KEY,
	terminal_id TEXT NOT NULL,
	detector    TEXT NOT NULL,
	severity    INTEGER NOT NULL,
	score       REAL NOT NULL,
	first_seen  INTEGER,
	last_seen   INTEGER NOT NULL,
	data        BLOB NOT NULL
) STRICT;

-- FindAlerts: most recently seen first, all or of one terminal.
CREATE INDEX alerts_last_seen ON alerts (last_seen, id);
CREATE INDEX alerts_terminal ON alerts (terminal_id, last_seen);

-- A policy change is its whole skyfence.PolicyChange as JSON (doc, the
-- exact bytes of json.Marshal, times in UTC), with the fields that select
-- and order changes copied into columns. revision guards updates: an update
-- names the revision it read and fails if it is no longer the stored one.
CREATE TABLE policy_changes (
	id         TEXT PRIMARY KEY,
	state      TEXT NOT NULL CHECK (state IN ('draft', 'proposed', 'approved', 'active', 'superseded',
		'rejected', 'withdrawn', 'rolled_back', 'expired')),
	created_at INTEGER NOT NULL,
	revision   INTEGER NOT NULL,
	doc        TEXT NOT NULL CHECK (json_valid(doc))
) STRICT;

-- FindChanges: newest first, all or of one state.
CREATE INDEX policy_changes_created ON policy_changes (created_at, id);
CREATE INDEX policy_changes_state ON policy_changes (state, created_at, id);

-- Appends are serialized by SQLite's single writer: the head is the row with
-- the largest seq, read and extended inside one write transaction.
CREATE TABLE audit_log (
	seq       INTEGER PRIMARY KEY,
	time      INTEGER NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	subject   TEXT NOT NULL,
	reason    TEXT NOT NULL,
	data      BLOB NOT NULL, -- the exact bytes the digest covers
	prev_hash BLOB NOT NULL,
	hash      BLOB NOT NULL
) STRICT;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;

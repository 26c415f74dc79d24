-- skyfence schema, version 1.
--
-- Every time is a bigint of nanoseconds since the Unix epoch, UTC, as in the
-- SQLite store (timestamptz keeps only microseconds); NULL is the zero
-- time.Time. Text codes (status, class, role, state) are the String forms of
-- the Go types.

CREATE TABLE accounts (
	id         text PRIMARY KEY,
	name       text NOT NULL,
	created_at bigint
);

CREATE TABLE terminals (
	id         text PRIMARY KEY,
	account_id text NOT NULL REFERENCES accounts (id),
	plan       text NOT NULL,
	country    text NOT NULL,
	status     text NOT NULL CHECK (status IN ('inactive', 'active', 'suspended', 'deactivated')),
	groups     text[] NOT NULL DEFAULT '{}',
	cell       text NOT NULL DEFAULT '', -- the capacity cell it was activated in
	created_at bigint,
	updated_at bigint
);

-- One index per filter of FindTerminals, each ending in id for the cursor.
CREATE INDEX terminals_account ON terminals (account_id, id);
CREATE INDEX terminals_country ON terminals (country, id);
CREATE INDEX terminals_plan ON terminals (plan, id);
CREATE INDEX terminals_status ON terminals (status, id);

CREATE TABLE verifications (
	id          text PRIMARY KEY,
	terminal_id text NOT NULL REFERENCES terminals (id),
	region      text NOT NULL,
	authority   text NOT NULL,
	class       text NOT NULL CHECK (class IN ('civil', 'government', 'military')),
	verified_at bigint,
	expires_at  bigint,
	revoked     boolean NOT NULL DEFAULT false,
	revoked_at  bigint
);

CREATE INDEX verifications_terminal ON verifications (terminal_id, id);
CREATE INDEX verifications_region ON verifications (region, id);

CREATE TABLE api_keys (
	id         text PRIMARY KEY,
	name       text NOT NULL,
	role       text NOT NULL,
	region     text NOT NULL,
	person     text NOT NULL, -- who holds the key
	hash       bytea NOT NULL UNIQUE,
	created_at bigint,
	revoked_at bigint
);

-- A cell has a row once its capacity is set or a terminal claims a place in
-- it: the row that claims and releases lock. capacity 0 is unlimited;
-- active counts its members in state 'active'.
CREATE TABLE cells (
	id       text PRIMARY KEY,
	capacity integer NOT NULL DEFAULT 0 CHECK (capacity >= 0),
	active   integer NOT NULL DEFAULT 0 CHECK (active >= 0)
);

-- seq orders the waitlist. Members of one cell are inserted under the
-- cell's row lock, so their seqs increase in the order they came.
CREATE TABLE cell_members (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	cell_id     text NOT NULL REFERENCES cells (id),
	terminal_id text NOT NULL REFERENCES terminals (id),
	state       text NOT NULL CHECK (state IN ('active', 'waiting')),
	UNIQUE (cell_id, terminal_id)
);

CREATE INDEX cell_members_queue ON cell_members (cell_id, state, seq);

-- No foreign key to terminals: the write-behind of ingest may record the
-- state of a terminal the registry does not know (it was denied), and one
-- such state must not fail a whole batch.
CREATE TABLE terminal_states (
	terminal_id text PRIMARY KEY,
	fix_time    bigint,
	lat         double precision NOT NULL,
	lon         double precision NOT NULL,
	alt_m       double precision NOT NULL,
	speed_kmh   double precision NOT NULL,
	cell        text NOT NULL,
	allow       boolean NOT NULL,
	reason      text NOT NULL,
	rule        text NOT NULL,
	country     text NOT NULL,
	policy      text NOT NULL,
	decided_at  bigint,
	track       bytea
);

-- An alert of detection, upserted by id as it updates: its whole
-- detect.Alert as JSON (data, byte for byte), with the fields that select
-- and order alerts copied into columns. No foreign key to terminals, as for
-- terminal_states: detection may flag a terminal the registry does not know.
CREATE TABLE alerts (
	id          text PRIMARY KEY,
	terminal_id text NOT NULL,
	detector    text NOT NULL,
	severity    integer NOT NULL,
	score       double precision NOT NULL,
	first_seen  bigint,
	last_seen   bigint NOT NULL,
	data        bytea NOT NULL
);

-- FindAlerts: most recently seen first, all or of one terminal.
CREATE INDEX alerts_last_seen ON alerts (last_seen, id);
CREATE INDEX alerts_terminal ON alerts (terminal_id, last_seen);

-- A policy change is its whole skyfence.PolicyChange as JSON (doc, the
-- exact bytes of json.Marshal, times in UTC: json, not jsonb, keeps them
-- byte for byte), with the fields that select and order changes copied into
-- columns. revision guards updates: an update names the revision it read and
-- fails if it is no longer the stored one (at READ COMMITTED, UPDATE ...
-- WHERE revision = $n rechecks the row once a concurrent update commits).
CREATE TABLE policy_changes (
	id         text PRIMARY KEY,
	state      text NOT NULL CHECK (state IN ('draft', 'proposed', 'approved', 'active', 'superseded',
		'rejected', 'withdrawn', 'rolled_back', 'expired')),
	created_at bigint NOT NULL,
	revision   bigint NOT NULL,
	doc        json NOT NULL
);

-- FindChanges: newest first, all or of one state.
CREATE INDEX policy_changes_created ON policy_changes (created_at, id);
CREATE INDEX policy_changes_state ON policy_changes (state, created_at, id);

CREATE TABLE audit_log (
	seq       bigint PRIMARY KEY,
	time      bigint NOT NULL,
	actor     text NOT NULL,
	action    text NOT NULL,
	subject   text NOT NULL,
	reason    text NOT NULL,
	data      bytea NOT NULL, -- the exact bytes the digest covers
	prev_hash bytea NOT NULL,
	hash      bytea NOT NULL
);

-- The head of the audit chain, one row: an append locks it (SELECT ... FOR
-- UPDATE) until its transaction ends, so appends from every connection of
-- every process take turns and form one gapless chain.
CREATE TABLE audit_head (
	one  boolean PRIMARY KEY DEFAULT true CHECK (one),
	seq  bigint NOT NULL,
	hash bytea NOT NULL
);

INSERT INTO audit_head (seq, hash) VALUES (0, decode(repeat('00', 32), 'hex'));

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

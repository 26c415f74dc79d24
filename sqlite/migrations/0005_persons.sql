-- Persons are first-class: the two-person rule compares persons by id,
-- never names as typed. A handle is a person's name in normal form
-- (skyfence.NormalizeHandle: NFKC, case-folded, trimmed), unique; the
-- CHECK catches the plainest raw writes of another form, and the stores
-- check the full form of every person they read.
CREATE TABLE persons (
	id         TEXT PRIMARY KEY,
	handle     TEXT NOT NULL UNIQUE CHECK (handle <> '' AND handle = trim(handle) AND handle = lower(handle)),
	name       TEXT NOT NULL,
	created_at INTEGER
) STRICT;

-- A key belongs to a person (by id); a partner key to one authority; a key
-- of a role in a two-person rule is pending until a second admin approves
-- it. The rows before this migration are given their persons by the Go
-- step of this migration (sqlstore.adoptKeyPersons), which normalizes the
-- names: keys whose persons' names normalize equal become one person.
ALTER TABLE api_keys ADD COLUMN person_id TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN authority TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN granted_by TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN approved_by TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN approved_at INTEGER;
CREATE INDEX api_keys_person ON api_keys (person_id);

-- The audit log's Merkle tree (RFC 6962, stored as golang.org/x/mod/sumdb/tlog
-- numbers its hashes: idx is tlog.StoredHashIndex), written in the
-- transaction of the entry that completes each hash, so that a proof reads
-- about log2(n) rows. A log older than this table gets its tree filled in by
-- its next append.
CREATE TABLE audit_tree (
	idx  INTEGER PRIMARY KEY,
	hash BLOB NOT NULL
) STRICT;

-- The signed checkpoints of the tree, one a committed transaction that
-- appended entries, signed in that transaction: note is the C2SP signed
-- note, root the tree's hash at size, key_id the key in force that signed.
CREATE TABLE audit_checkpoints (
	size   INTEGER PRIMARY KEY,
	root   BLOB NOT NULL,
	key_id TEXT NOT NULL,
	note   BLOB NOT NULL,
	time   INTEGER NOT NULL
) STRICT;

-- Witnesses' cosignatures of checkpoints (C2SP tlog-cosignature): key is
-- the witness's verifier key, line its note signature line.
CREATE TABLE audit_cosignatures (
	size INTEGER NOT NULL,
	key  TEXT NOT NULL,
	line TEXT NOT NULL,
	time INTEGER NOT NULL,
	PRIMARY KEY (size, key)
) STRICT;

CREATE TRIGGER audit_tree_no_update BEFORE UPDATE ON audit_tree
BEGIN
	SELECT RAISE(ABORT, 'audit_tree is append-only');
END;

CREATE TRIGGER audit_tree_no_delete BEFORE DELETE ON audit_tree
BEGIN
	SELECT RAISE(ABORT, 'audit_tree is append-only');
END;

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
	SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;

CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
	SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;

-- The audit log's Merkle tree (RFC 6962, stored as golang.org/x/mod/sumdb/tlog
-- numbers its hashes: idx is tlog.StoredHashIndex), written in the
-- transaction of the entry that completes each hash, under the audit head's
-- lock, so that a proof reads about log2(n) rows. A log older than this
-- table gets its tree filled in by its next append.
CREATE TABLE audit_tree (
	idx  bigint PRIMARY KEY,
	hash bytea NOT NULL
);

-- The signed checkpoints of the tree, one a committed transaction that
-- appended entries, signed in that transaction: note is the C2SP signed
-- note, root the tree's hash at size, key_id the key in force that signed.
CREATE TABLE audit_checkpoints (
	size   bigint PRIMARY KEY,
	root   bytea NOT NULL,
	key_id text NOT NULL,
	note   bytea NOT NULL,
	time   bigint NOT NULL
);

-- Witnesses' cosignatures of checkpoints (C2SP tlog-cosignature): key is
-- the witness's verifier key, line its note signature line.
CREATE TABLE audit_cosignatures (
	size bigint NOT NULL,
	key  text NOT NULL,
	line text NOT NULL,
	time bigint NOT NULL,
	PRIMARY KEY (size, key)
);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;

CREATE TRIGGER audit_tree_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_tree
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_checkpoints
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

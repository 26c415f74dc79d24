package skyfence

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// AuditEntry is one record of the append-only, hash-chained audit log:
// every change of policy, terminal status, verification, key or role.
type AuditEntry struct {
	Seq     int64           `json:"seq"`
	Time    time.Time       `json:"time"`
	Actor   string          `json:"actor"`   // who: an API key id, or "system"
	Action  string          `json:"action"`  // what, e.g. "terminal.suspend"
	Subject string          `json:"subject"` // about what, e.g. a terminal id
	Reason  string          `json:"reason"`  // why, in the actor's words
	Data    json.RawMessage `json:"data"`    // details, as compact JSON
	// PrevHash is the Hash of entry Seq-1 (32 zero bytes for the first);
	// Hash is Digest(PrevHash).
	PrevHash []byte `json:"prev_hash"`
	Hash     []byte `json:"hash"`
}

// Digest returns the hash that chains the entry to prev: SHA-256 over prev,
// then each field as a big-endian uint64 length followed by its bytes, in
// this order: seq (decimal), time (UTC in Go's time.RFC3339Nano layout:
// the fraction of a second without trailing zeros, and none at all for a
// whole second, then "Z"), actor, action, subject, reason, data.
// docs/AUDIT.md works an example through.
func (e *AuditEntry) Digest(prev []byte) []byte {
	sum := sha256.Sum256(e.appendCanonical(nil, prev))
	return sum[:]
}

// Canonical returns the entry's canonical bytes: those Digest hashes, with
// e.PrevHash as prev. They are the entry's leaf in the audit log's Merkle
// tree, whose record hash is RecordHash.
func (e *AuditEntry) Canonical() []byte { return e.appendCanonical(nil, e.PrevHash) }

// RecordHash returns the entry's leaf hash in the Merkle tree (RFC 6962:
// SHA-256 of a zero byte and Canonical).
func (e *AuditEntry) RecordHash() tlog.Hash { return tlog.RecordHash(e.Canonical()) }

func (e *AuditEntry) appendCanonical(b, prev []byte) []byte {
	b = append(b, prev...)
	for _, f := range []string{
		itoa(e.Seq), e.Time.UTC().Format(time.RFC3339Nano), e.Actor, e.Action, e.Subject, e.Reason, string(e.Data),
	} {
		b = binary.BigEndian.AppendUint64(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

func itoa(v int64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// AuditQuery selects audit entries; zero fields match everything.
type AuditQuery struct {
	// ActionPrefix selects the actions that start with it: "case." every
	// action on cases.
	ActionPrefix string
	// Actions selects the entries of any one of these actions.
	Actions []string
	Actor   string
	Subject string
	// Since and Until select the entries with Since <= Time < Until; a
	// zero time does not bound.
	Since, Until time.Time
	// Before selects the entries with Seq < Before (0: no bound): the
	// cursor of a listing newest first.
	Before int64
	// Newest lists newest first (by Seq); else oldest first.
	Newest bool
	// Limit is the most entries to give (0: all).
	Limit int
}

// AuditCheckpoint is a signed head of the audit log's Merkle tree: the
// tree of its first Size entries (entry seq is the tree's record seq-1)
// has root hash Root. Note is the checkpoint as a signed note (C2SP
// tlog-checkpoint in a C2SP signed note, package audit makes and reads
// them); KeyID names the key in force that signed it.
type AuditCheckpoint struct {
	Size  int64
	Root  tlog.Hash
	KeyID string
	Note  []byte
	Time  time.Time
}

// AuditSealer signs the audit log's tree head at the end of every
// transaction that appended entries, in that transaction, so that every
// committed entry is covered by a signed checkpoint (package audit's
// Sealer is one). r reads the transaction, entries of size and root
// included.
type AuditSealer interface {
	SealAudit(ctx context.Context, r Reader, size int64, root tlog.Hash) (note []byte, keyID string, err error)
}

// AuditCosignature is a witness's cosignature of the checkpoint of Size
// entries: Key is the witness's verifier key (name+hash+keydata), Line its
// signature line of the checkpoint's note, line feed included.
type AuditCosignature struct {
	Size int64
	Key  string
	Line string
	Time time.Time
}

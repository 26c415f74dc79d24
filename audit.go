package skyfence

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"time"
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
	h := sha256.New()
	h.Write(prev)
	for _, f := range []string{
		itoa(e.Seq), e.Time.UTC().Format(time.RFC3339Nano), e.Actor, e.Action, e.Subject, e.Reason, string(e.Data),
	} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return h.Sum(nil)
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

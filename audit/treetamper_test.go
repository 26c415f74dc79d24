package audit_test

import (
	"crypto/ed25519"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/audit"
)

// The sealed log the tree tamper tests start from: a key entry and 20
// entries, each in a transaction of its own, so with 21 checkpoints; an
// outsider kept the checkpoints of sizes seenSize and sealedLen.
const (
	sealedLen = 21
	seenSize  = 15
)

// treeCase is what an insider with raw SQL does to a sealed log, and what
// Verify must then report given the checkpoints the outsider kept.
type treeCase struct {
	name   string
	tamper func(t testing.TB, r raw, es []*skyfence.AuditEntry, k *audit.Signer)
	pin    bool
	seq    int64
	kind   audit.Kind
}

var treeCases = []treeCase{
	{name: "untouched"},
	{name: "untouched, pinned", pin: true},
	{name: "tail cut with its tree and checkpoints", seq: seenSize + 1, kind: audit.Truncated, tamper: func(t testing.TB, r raw, es []*skyfence.AuditEntry, _ *audit.Signer) {
		r(t, `DELETE FROM audit_log WHERE seq > ?`, seenSize)
		r(t, `DELETE FROM audit_checkpoints WHERE size > ?`, seenSize)
		r.retree(t, es[:seenSize])
	}},
	{name: "entry 10 rewritten, the rest re-hashed, its checkpoints dropped", seq: 10, kind: audit.Rewritten, tamper: func(t testing.TB, r raw, es []*skyfence.AuditEntry, _ *audit.Signer) {
		es[9].Reason = "nothing happened"
		r.rechain(t, es)
		r(t, `DELETE FROM audit_checkpoints WHERE size >= 10`)
	}},
	{name: "entry 10 rewritten and every checkpoint signed again with the key: a fork", seq: seenSize, kind: audit.Forked, tamper: func(t testing.TB, r raw, es []*skyfence.AuditEntry, k *audit.Signer) {
		es[9].Reason = "nothing happened"
		r.rechain(t, es)
		r(t, `DELETE FROM audit_checkpoints WHERE size >= 10`)
		r.resign(t, es, k, 10)
	}},
	{name: "the whole log rebuilt with another key", seq: seenSize, kind: audit.Untrusted, tamper: func(t testing.TB, r raw, es []*skyfence.AuditEntry, _ *audit.Signer) {
		forger := signer(66)
		r(t, `DELETE FROM audit_checkpoints`)
		es[0] = keyEntry(t, forger)
		r.rechain(t, es)
		r.resign(t, es, forger, 1)
	}},
	{name: "the whole log rebuilt with another key, pinned", pin: true, seq: 1, kind: audit.Untrusted, tamper: func(t testing.TB, r raw, es []*skyfence.AuditEntry, _ *audit.Signer) {
		forger := signer(66)
		r(t, `DELETE FROM audit_checkpoints`)
		es[0] = keyEntry(t, forger)
		r.rechain(t, es)
		r.resign(t, es, forger, 1)
	}},
}

// keyEntry returns the root key entry of k, as Register appends it.
func keyEntry(t testing.TB, k *audit.Signer) *skyfence.AuditEntry {
	s := openSQLite(t, sqliteFile(t))
	if err := audit.Register(t.Context(), s, k); err != nil {
		t.Fatal(err)
	}
	return entries(t, s)[0]
}

// resign writes, for every size from from on, a checkpoint of the tree of
// es signed by k: what the holder of a key can do.
func (r raw) resign(t testing.TB, es []*skyfence.AuditEntry, k *audit.Signer, from int) {
	t.Helper()
	stored := map[int64]tlog.Hash{}
	read := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	for n, e := range es {
		hs, err := tlog.StoredHashes(int64(n), e.Canonical(), read)
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range hs {
			stored[tlog.StoredHashIndex(0, int64(n))+int64(i)] = h
		}
		size := int64(n + 1)
		if size < int64(from) {
			continue
		}
		root, err := tlog.TreeHash(size, read)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := k.SignCheckpoint(audit.Checkpoint{Origin: origin, Size: size, Root: root})
		if err != nil {
			t.Fatal(err)
		}
		r(t, `INSERT INTO audit_checkpoints (size, root, key_id, note, time) VALUES (?, ?, ?, ?, ?)`, size, root[:], k.KeyID(), msg, 0)
	}
}

func TestTreeTamper(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			for _, tc := range treeCases {
				t.Run(tc.name, func(t *testing.T) {
					s, rawer := st.open(t)
					k := signer(1)
					sealed(t, s, k)
					appendEntries(t, s, 2, sealedLen-1)
					all := checkpoints(t, s)
					if len(all) != sealedLen {
						t.Fatalf("%d checkpoints, want %d", len(all), sealedLen)
					}
					kept := []audit.SeenCheckpoint{all[seenSize-1], all[sealedLen-1]}
					if tc.tamper != nil {
						tc.tamper(t, rawer(t), entries(t, s), k)
					}
					opts := audit.VerifyOptions{Checkpoints: kept}
					if tc.pin {
						opts.PublicKeys = []ed25519.PublicKey{k.PublicKey()}
					}
					rep := verify(t, s, opts)
					if tc.kind == 0 {
						if rep.Problem != nil || rep.Seen != 2 || rep.TreeCheckpoints != sealedLen {
							t.Fatalf("problem %q, %d seen and %d stored checkpoints verified; want none, 2 and %d", rep.Problem, rep.Seen, rep.TreeCheckpoints, sealedLen)
						}
						return
					}
					wantProblem(t, rep, tc.seq, tc.kind)
				})
			}
		})
	}
}

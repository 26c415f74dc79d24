package audit_test

import (
	"crypto/ed25519"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/audit"
	"github.com/skyfence/skyfence/postgres"
)

// origin is the name of the tests' logs.
const origin = "skyfence.test/audit"

// stores opens a fresh store of each kind for tc.
var stores = []struct {
	name string
	open func(t *testing.T) (skyfence.Store, func(t testing.TB) raw)
}{
	{"sqlite", func(t *testing.T) (skyfence.Store, func(t testing.TB) raw) {
		path := sqliteFile(t)
		return openSQLite(t, path), func(t testing.TB) raw { return rawSQLite(t, path) }
	}},
	{"postgres", func(t *testing.T) (skyfence.Store, func(t testing.TB) raw) {
		s, schema := openPostgres(t)
		url := postgresURL(t)
		return s, func(t testing.TB) raw { return rawPostgres(t, url, schema) }
	}},
}

// sealed sets a Sealer with k on s and registers k.
func sealed(t testing.TB, s skyfence.Store, k *audit.Signer) {
	t.Helper()
	s.SetAuditSealer(&audit.Sealer{Signer: k, Origin: origin})
	if err := audit.Register(t.Context(), s, k); err != nil {
		t.Fatal(err)
	}
}

// checkpoints returns every checkpoint the log holds, as a verifier would
// have kept them.
func checkpoints(t testing.TB, s skyfence.Reader) []audit.SeenCheckpoint {
	t.Helper()
	var out []audit.SeenCheckpoint
	err := s.ForEachAuditCheckpoint(t.Context(), 1, func(c *skyfence.AuditCheckpoint) error {
		out = append(out, audit.SeenCheckpoint{Name: "size-" + strconv.FormatInt(c.Size, 10), Note: c.Note})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSealerSignsEveryCommit: every transaction that appends entries
// commits with a checkpoint of the tree up to its last entry, signed by
// the key in force; an untouched log verifies against every one.
func TestSealerSignsEveryCommit(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			s, _ := st.open(t)
			k := signer(1)
			s.SetAuditSealer(&audit.Sealer{Signer: k, Origin: origin})
			// No key in force yet: the append fails with the transaction.
			err := s.Tx(t.Context(), func(tx skyfence.Tx) error {
				return tx.AppendAudit(t.Context(), &skyfence.AuditEntry{Actor: "a", Action: "b"})
			})
			if skyfence.ErrorCode(err) != skyfence.ECONFLICT || len(entries(t, s)) != 0 {
				t.Fatalf("append before a key is registered: %v, %d entries; want ECONFLICT and none", err, len(entries(t, s)))
			}
			sealed(t, s, k)
			appendEntries(t, s, 2, 9)
			inTx(t, s, func(tx skyfence.Tx) error {
				for i := range 3 {
					if err := tx.AppendAudit(t.Context(), &skyfence.AuditEntry{Actor: "a", Action: "batch", Subject: strconv.Itoa(i)}); err != nil {
						return err
					}
				}
				return nil
			})
			head, _, err := s.AuditHead(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			last, err := s.FindAuditCheckpoint(t.Context(), 0)
			if err != nil || last.Size != head || head != 13 {
				t.Fatalf("latest checkpoint %+v, %v; want size 13, the head %d", last, err, head)
			}
			cps := checkpoints(t, s)
			if len(cps) != 11 { // the key entry, 9 entries, one batch of 3
				t.Errorf("%d checkpoints, want 11: one a transaction", len(cps))
			}
			c, err := audit.OpenCheckpoint(last.Note, k.PublicKey())
			if err != nil || c.Origin != origin || c.Size != 13 || c.Root != last.Root {
				t.Errorf("OpenCheckpoint: %+v, %v", c, err)
			}
			rep := verify(t, s, audit.VerifyOptions{Checkpoints: cps})
			if rep.Problem != nil || rep.Seen != len(cps) || rep.TreeCheckpoints != len(cps) || rep.Root != c.Root {
				t.Errorf("verify against every checkpoint: %+v", rep)
			}

			// Another key may not sign: the write fails, nothing is kept.
			s.SetAuditSealer(&audit.Sealer{Signer: signer(2), Origin: origin})
			err = s.Tx(t.Context(), func(tx skyfence.Tx) error {
				return tx.AppendAudit(t.Context(), &skyfence.AuditEntry{Actor: "a", Action: "b"})
			})
			if skyfence.ErrorCode(err) != skyfence.ECONFLICT || len(entries(t, s)) != 13 {
				t.Errorf("append sealed by a key not in force: %v, %d entries; want ECONFLICT and 13", err, len(entries(t, s)))
			}
		})
	}
}

// TestRotationSealed: a new key, announced in the log and signed by the
// old one, signs the rotation's own checkpoint and those after; verify
// follows the chain from the pinned first key, checkpoints kept from
// before and after the rotation verify, the old key may no longer sign,
// and a key announced without the old one's signature is refused.
func TestRotationSealed(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			s, _ := st.open(t)
			a, b := signer(1), signer(2)
			sealed(t, s, a)
			appendEntries(t, s, 2, 4)
			before := checkpoints(t, s)
			s.SetAuditSealer(&audit.Sealer{Signer: b, Origin: origin})
			inTx(t, s, func(tx skyfence.Tx) error { return audit.Rotate(t.Context(), tx, a, b) })
			appendEntries(t, s, 7, 3)
			vkey, err := audit.LogKey(t.Context(), s)
			if want, _ := audit.VerifierKey(origin, b.PublicKey()); err != nil || vkey != want {
				t.Errorf("LogKey after the rotation: %q, %v; want the new key %q", vkey, err, want)
			}
			all := checkpoints(t, s)
			rep := verify(t, s, audit.VerifyOptions{PublicKeys: []ed25519.PublicKey{a.PublicKey()}, Checkpoints: all})
			if rep.Problem != nil || len(rep.Keys) != 2 || rep.Keys[1].Trust != audit.TrustRotated || rep.Seen != len(all) {
				t.Fatalf("verify after the rotation: %+v", rep)
			}
			if len(before) != 5 || len(all) != 9 {
				t.Errorf("%d checkpoints before, %d after; want 5 and 9", len(before), len(all))
			}
			s.SetAuditSealer(&audit.Sealer{Signer: a, Origin: origin})
			err = s.Tx(t.Context(), func(tx skyfence.Tx) error {
				return tx.AppendAudit(t.Context(), &skyfence.AuditEntry{Actor: "a", Action: "b"})
			})
			if skyfence.ErrorCode(err) != skyfence.ECONFLICT {
				t.Errorf("a write sealed by the rotated-out key: %v, want ECONFLICT", err)
			}
			// A new root key, not signed by the key in force, is refused
			// by verify (unless pinned) even though it seals its own tree.
			c := signer(3)
			s.SetAuditSealer(&audit.Sealer{Signer: c, Origin: origin})
			inTx(t, s, func(tx skyfence.Tx) error { return audit.Rotate(t.Context(), tx, nil, c) })
			wantProblem(t, verify(t, s, audit.VerifyOptions{}), 10, audit.Untrusted)
		})
	}
}

// TestClusterOneLog: authorizers of a cluster, each its own connection
// pool with the same key, append concurrently to one PostgreSQL log: one
// gapless sequence, one tree, a checkpoint a transaction, all verifying.
func TestClusterOneLog(t *testing.T) {
	url := postgresURL(t)
	first, schema := openPostgres(t)
	k := signer(1)
	sealed(t, first, k)
	var nodes []skyfence.Store
	for range 3 {
		s, err := postgres.Open(t.Context(), url, nil, postgres.WithSchema(schema))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		s.SetAuditSealer(&audit.Sealer{Signer: k, Origin: origin})
		nodes = append(nodes, s)
	}
	var wg sync.WaitGroup
	for i, s := range nodes {
		for g := range 2 {
			wg.Go(func() {
				for j := range 40 {
					err := s.Tx(t.Context(), func(tx skyfence.Tx) error {
						return tx.AppendAudit(t.Context(), &skyfence.AuditEntry{Actor: "node", Action: "test", Subject: fmt.Sprintf("%d-%d-%d", i, g, j)})
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	rep := verify(t, first, audit.VerifyOptions{Checkpoints: checkpoints(t, first)})
	if rep.Problem != nil || rep.Entries != 1+3*2*40 || rep.TreeCheckpoints != 1+3*2*40 {
		t.Errorf("after concurrent appends from 3 nodes: %d entries, %d checkpoints, problem %v; want 241 and 241, none", rep.Entries, rep.TreeCheckpoints, rep.Problem)
	}
}

// TestTreeOfAnOlderLog: a log written before the tree (its audit_tree
// empty) gets its tree at its next append, and then verifies, proofs and
// all; a tree holding a partial record is refused rather than extended.
func TestTreeOfAnOlderLog(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			s, rawer := st.open(t)
			appendEntries(t, s, 1, 37)
			r := rawer(t)
			r(t, `DELETE FROM audit_tree`)
			if _, err := audit.ProveInclusion(t.Context(), s, 1, 0); err == nil {
				t.Fatal("a proof from a log without a tree")
			}
			k := signer(1)
			sealed(t, s, k) // the key entry: the first append since
			if rep := verify(t, s, audit.VerifyOptions{}); rep.Problem != nil || rep.TreeCheckpoints != 1 {
				t.Fatalf("after the first append: %+v", rep)
			}
			c, _ := s.FindAuditCheckpoint(t.Context(), 0)
			cp, err := audit.OpenCheckpoint(c.Note, k.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			p, err := audit.ProveInclusion(t.Context(), s, 5, 0)
			if err != nil || audit.CheckInclusion(p, cp, entries(t, s)[4]) != nil {
				t.Errorf("proof of entry 5 after the tree was filled in: %v", err)
			}
			r(t, `DELETE FROM audit_tree WHERE idx = (SELECT MAX(idx) FROM audit_tree)`)
			err = s.Tx(t.Context(), func(tx skyfence.Tx) error {
				return tx.AppendAudit(t.Context(), &skyfence.AuditEntry{Actor: "a", Action: "b"})
			})
			if skyfence.ErrorCode(err) != skyfence.EINTERNAL {
				t.Errorf("an append onto a tree missing a hash: %v, want EINTERNAL", err)
			}
		})
	}
}

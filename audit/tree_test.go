package audit_test

import (
	"strconv"
	"testing"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/audit"
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

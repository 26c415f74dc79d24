package audit_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/audit"
)

// storeLog is a log as a witness sees it, read from the store directly.
type storeLog struct{ s skyfence.Store }

func (l storeLog) Checkpoint(ctx context.Context) ([]byte, error) {
	c, err := l.s.FindAuditCheckpoint(ctx, 0)
	if err != nil {
		return nil, err
	}
	return c.Note, nil
}

func (l storeLog) Consistency(ctx context.Context, old, size int64) (*audit.ConsistencyProof, error) {
	return audit.ProveConsistency(ctx, l.s, old, size)
}

func (l storeLog) AddCosignature(ctx context.Context, cosigned []byte, vkey string) error {
	c, err := audit.CheckCosignature(ctx, l.s, cosigned, vkey)
	if err != nil {
		return err
	}
	return l.s.Tx(ctx, func(tx skyfence.Tx) error { return tx.AddAuditCosignature(ctx, c) })
}

// TestWitness: a witness cosigns a growing log, and catches a cut, a
// rewrite signed again by the key's holder (same size, and grown past),
// and a log rebuilt with another key, each kept as evidence without
// moving its state.
func TestWitness(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t testing.TB, s skyfence.Store, r raw, es []*skyfence.AuditEntry, k *audit.Signer)
		want   string
	}{
		{"tail cut", func(t testing.TB, _ skyfence.Store, r raw, es []*skyfence.AuditEntry, _ *audit.Signer) {
			r(t, `DELETE FROM audit_log WHERE seq > 8`)
			r(t, `DELETE FROM audit_checkpoints WHERE size > 8`)
			r.retree(t, es[:8])
		}, "cut: the log shows 8 entries, fewer than the 10"},
		{"rewritten and signed again, same size", func(t testing.TB, _ skyfence.Store, r raw, es []*skyfence.AuditEntry, k *audit.Signer) {
			es[4].Reason = "nothing happened"
			r.rechain(t, es)
			r(t, `DELETE FROM audit_checkpoints`)
			r.resign(t, es, k, 1)
		}, "fork: the log shows root"},
		{"rewritten and signed again, then grown", func(t testing.TB, s skyfence.Store, r raw, es []*skyfence.AuditEntry, k *audit.Signer) {
			es[4].Reason = "nothing happened"
			r.rechain(t, es)
			r(t, `DELETE FROM audit_checkpoints`)
			r.resign(t, es, k, 1)
			appendEntries(t, s, 100, 2)
		}, "fork or rewrite: no proof that the tree of 10 entries held is a prefix of the 12 served"},
		{"rebuilt with another key", func(t testing.TB, s skyfence.Store, r raw, es []*skyfence.AuditEntry, _ *audit.Signer) {
			forger := signer(66)
			r(t, `DELETE FROM audit_checkpoints`)
			es[0] = keyEntry(t, forger)
			r.rechain(t, es)
			r.resign(t, es, forger, 1)
		}, "not signed by the log's key"},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					s, rawer := st.open(t)
					k := signer(1)
					sealed(t, s, k)
					appendEntries(t, s, 2, 5)
					dir := t.TempDir()
					at := time.Unix(1_800_000_000, 0)
					w := &audit.Witness{Log: storeLog{s}, Cosigner: audit.NewCosigner("witness.test/w1", signer(9), func() time.Time { return at }),
						StateFile: filepath.Join(dir, "state.json")}
					served := func(ctx context.Context) (string, error) { return audit.LogKey(ctx, s) }
					if c, err := w.Poll(t.Context(), served); err != nil || c.Size != 6 {
						t.Fatalf("first poll: %+v, %v", c, err)
					}
					appendEntries(t, s, 7, 4)
					if c, err := w.Poll(t.Context(), served); err != nil || c.Size != 10 {
						t.Fatalf("second poll: %+v, %v", c, err)
					}
					// The log serves the checkpoint cosigned: it verifies
					// with the log's key and with the witness's.
					cs, err := s.FindAuditCosignatures(t.Context(), 0)
					if err != nil || len(cs) != 1 || cs[0].Size != 10 {
						t.Fatalf("cosignatures: %+v, %v", cs, err)
					}
					last, _ := s.FindAuditCheckpoint(t.Context(), 10)
					cosigned := audit.WithCosignatures(last.Note, cs)
					wv, err := audit.NewCosignatureVerifier(w.Cosigner.VerifierKey())
					if err != nil {
						t.Fatal(err)
					}
					lk, _ := audit.LogKey(t.Context(), s)
					lv, _ := note.NewVerifier(lk)
					if n, err := note.Open(cosigned, note.VerifierList(lv, wv)); err != nil || len(n.Sigs) != 2 {
						t.Fatalf("the cosigned checkpoint: %v, %+v", err, n)
					}
					held, _ := os.ReadFile(w.StateFile)

					tc.tamper(t, s, rawer(t), entries(t, s), k)
					_, err = w.Poll(t.Context(), served)
					if !errors.Is(err, audit.ErrConflict) || !strings.Contains(err.Error(), tc.want) {
						t.Fatalf("poll after the tampering: %v; want a conflict %q", err, tc.want)
					}
					t.Logf("reported: %v", err)
					if now, _ := os.ReadFile(w.StateFile); string(now) != string(held) {
						t.Errorf("the state moved on a conflict:\n%s\nwas\n%s", now, held)
					}
					ev, _ := filepath.Glob(w.StateFile + ".evidence-*.txt")
					if len(ev) != 1 {
						t.Fatalf("evidence files %v, want one", ev)
					}
					b, _ := os.ReadFile(ev[0])
					if !strings.Contains(string(b), string(last.Note[:strings.Index(string(last.Note), "\n\n")])) {
						t.Errorf("the evidence lacks the checkpoint held:\n%s", b)
					}
				})
			}
		})
	}
}

// TestCosignatureRefused: the log takes no cosignature that does not
// verify, of a checkpoint it did not sign, or with a malformed key.
func TestCosignatureRefused(t *testing.T) {
	s := openSQLite(t, sqliteFile(t))
	k := signer(1)
	sealed(t, s, k)
	appendEntries(t, s, 2, 2)
	c, _ := s.FindAuditCheckpoint(t.Context(), 0)
	text, _ := audit.SplitNote(c.Note)
	w := audit.NewCosigner("witness.test/w1", signer(9), nil)
	good, err := note.Sign(&note.Note{Text: text}, w)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.CheckCosignature(t.Context(), s, good, w.VerifierKey()); err != nil {
		t.Fatalf("a good cosignature: %v", err)
	}
	other := audit.NewCosigner("witness.test/w1", signer(10), nil)
	noteKey, _ := audit.VerifierKey("witness.test/w1", signer(9).PublicKey())
	forged, _ := note.Sign(&note.Note{Text: strings.Replace(text, "\n3\n", "\n2\n", 1)}, w)
	for name, tc := range map[string]struct {
		note []byte
		key  string
	}{
		"another witness's key":             {good, other.VerifierKey()},
		"a checkpoint the log never signed": {forged, w.VerifierKey()},
		"a note key, not a cosigner key":    {good, noteKey},
		"garbage":                           {[]byte("hello\n"), "x"},
	} {
		if _, err := audit.CheckCosignature(t.Context(), s, tc.note, tc.key); skyfence.ErrorCode(err) != skyfence.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}

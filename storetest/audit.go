package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/skyfence/skyfence"
)

// CheckChain fails the test unless the store's audit log is entries 1..n,
// gapless, each chained to the one before it.
func CheckChain(t testing.TB, s skyfence.Reader, n int) {
	t.Helper()
	es, err := s.FindAudit(t.Context(), 1, 0)
	if err != nil {
		t.Fatalf("FindAudit: %v", err)
	}
	if len(es) != n {
		t.Fatalf("audit log has %d entries, want %d", len(es), n)
	}
	prev := make([]byte, 32)
	for i, e := range es {
		if e.Seq != int64(i+1) {
			t.Fatalf("audit entry %d has seq %d, want %d", i, e.Seq, i+1)
		}
		if !bytes.Equal(e.PrevHash, prev) {
			t.Fatalf("audit entry %d: prev hash %x, want the hash before it, %x", e.Seq, e.PrevHash, prev)
		}
		if d := e.Digest(e.PrevHash); !bytes.Equal(e.Hash, d) {
			t.Fatalf("audit entry %d: hash %x, want its digest %x", e.Seq, e.Hash, d)
		}
		prev = e.Hash
	}
}

// Append appends n entries to the store's audit log from four goroutines,
// each entry in a transaction of its own: what one process of a test of
// appends from several processes does.
func Append(t testing.TB, s skyfence.Store, n int) {
	t.Helper()
	appendConcurrently(t, []skyfence.Store{s}, 4, n)
}

// appendAudit appends an entry in a transaction of its own.
func appendAudit(t testing.TB, s skyfence.Store, e *skyfence.AuditEntry) error {
	return s.Tx(t.Context(), func(tx skyfence.Tx) error { return tx.AppendAudit(t.Context(), e) })
}

// appendConcurrently appends n entries from the goroutines spread over the
// stores (handles on one database), each in a transaction of its own.
func appendConcurrently(t testing.TB, stores []skyfence.Store, goroutines, n int) {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for g := range goroutines {
		s := stores[g%len(stores)]
		wg.Go(func() {
			for i := g; i < n; i += goroutines {
				errs <- appendAudit(t, s, &skyfence.AuditEntry{
					Actor: fmt.Sprintf("g%d", g), Action: "test.append", Subject: fmt.Sprint(i),
					Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)),
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
	}
}

func testAuditChain(t *testing.T, s skyfence.Store) {
	appendConcurrently(t, []skyfence.Store{s}, 8, 100)
	CheckChain(t, s, 100)
	es, err := s.FindAudit(t.Context(), 50, 10)
	if err != nil {
		t.Fatalf("FindAudit(50, 10): %v", err)
	}
	if len(es) != 10 || es[0].Seq != 50 || es[9].Seq != 59 {
		t.Errorf("FindAudit(50, 10): got %d entries from %v, want 50..59", len(es), es)
	}
	es, err = s.FindAudit(t.Context(), 101, 0)
	if err != nil || len(es) != 0 {
		t.Errorf("FindAudit(101, 0): got %d entries, %v; want none", len(es), err)
	}
	_, err = s.FindAudit(t.Context(), 1, -1)
	wantCode(t, "FindAudit(limit -1)", err, skyfence.EINVALID)
}

func testAuditFields(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	first := &skyfence.AuditEntry{
		Time: t0, Actor: "k-admin", Action: "terminal.suspend", Subject: "ut-1", Reason: "case 42: used on the front line",
		Data: json.RawMessage(`{"status":"suspended","zeros":[0.10,1e3]}`), // kept byte for byte
	}
	before := time.Now().UTC().Truncate(time.Microsecond)
	second := &skyfence.AuditEntry{Actor: "system", Action: "policy.activate"} // no time, no data
	for _, e := range []*skyfence.AuditEntry{first, second} {
		if err := appendAudit(t, s, e); err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
	}
	if first.Seq != 1 || !bytes.Equal(first.PrevHash, make([]byte, 32)) || !bytes.Equal(first.Hash, first.Digest(first.PrevHash)) {
		t.Errorf("first entry: seq %d, prev %x, hash %x; want 1, zeros, its digest", first.Seq, first.PrevHash, first.Hash)
	}
	if second.Seq != 2 || !bytes.Equal(second.PrevHash, first.Hash) {
		t.Errorf("second entry: seq %d, prev %x; want 2, %x", second.Seq, second.PrevHash, first.Hash)
	}
	if second.Time.Before(before) || second.Time.Location() != time.UTC || second.Time.Nanosecond()%1000 != 0 {
		t.Errorf("second entry: time %v, want now in UTC, in microseconds", second.Time)
	}
	es, err := s.FindAudit(ctx, 0, 0)
	if err != nil {
		t.Fatalf("FindAudit: %v", err)
	}
	want := *first
	want.Time = t0.UTC()
	same(t, "FindAudit", es, []*skyfence.AuditEntry{&want, second})
	CheckChain(t, s, 2)
	if err := appendAudit(t, s, &skyfence.AuditEntry{Time: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}); skyfence.ErrorCode(err) != skyfence.EINVALID {
		t.Errorf("AppendAudit(year 3000): got %v, want code %q", err, skyfence.EINVALID)
	}
}

func testTxRollback(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	errBoom := errors.New("boom")
	err := s.Tx(ctx, func(tx skyfence.Tx) error {
		if err := tx.CreateAccount(ctx, &skyfence.Account{ID: "acme"}); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, &skyfence.AuditEntry{Action: "account.create", Subject: "acme"}); err != nil {
			return err
		}
		return fmt.Errorf("after the writes: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Tx: got %v, want fn's error", err)
	}
	_, err = s.FindAccountByID(ctx, "acme")
	wantCode(t, "FindAccountByID after a rollback", err, skyfence.ENOTFOUND)
	CheckChain(t, s, 0)

	// The chain goes on from where the committed entries left it.
	if err := appendAudit(t, s, &skyfence.AuditEntry{Action: "after"}); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	CheckChain(t, s, 1)
}

func testTxPanic(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("Tx: recovered %v, want the panic of fn to go on", r)
			}
		}()
		s.Tx(ctx, func(tx skyfence.Tx) error {
			if err := tx.CreateAccount(ctx, &skyfence.Account{ID: "acme"}); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, &skyfence.AuditEntry{Action: "account.create"}); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	_, err := s.FindAccountByID(ctx, "acme")
	wantCode(t, "FindAccountByID after a panic", err, skyfence.ENOTFOUND)
	CheckChain(t, s, 0)
	account(t, s, "acme") // the store still works
	if _, err := s.FindAccountByID(ctx, "acme"); err != nil {
		t.Errorf("FindAccountByID after a panic and a commit: %v", err)
	}
}

// testTxAfterError checks that a failed create undoes itself alone: the
// caller may handle the error and go on with the transaction.
func testTxAfterError(t *testing.T, s skyfence.Store) {
	account(t, s, "acme")
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		wantCode(t, "CreateAccount(existing id)", tx.CreateAccount(ctx, &skyfence.Account{ID: "acme"}), skyfence.ECONFLICT)
		wantCode(t, "CreateTerminal(unknown account)", tx.CreateTerminal(ctx, &skyfence.Terminal{ID: "t1", AccountID: "nobody"}), skyfence.ENOTFOUND)
		_, err := tx.ClaimCell(ctx, "c1.1", "t1")
		wantCode(t, "ClaimCell(unknown terminal)", err, skyfence.ENOTFOUND)
		if err := tx.CreateAccount(ctx, &skyfence.Account{ID: "beta"}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &skyfence.AuditEntry{Action: "account.create", Subject: "beta"})
	})
	if _, err := s.FindAccountByID(t.Context(), "beta"); err != nil {
		t.Errorf("FindAccountByID of the account created after the errors: %v", err)
	}
	CheckChain(t, s, 1)
}

func testTxIsolation(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error {
		if err := tx.CreateAccount(ctx, &skyfence.Account{ID: "acme"}); err != nil {
			return err
		}
		if _, err := tx.FindAccountByID(ctx, "acme"); err != nil {
			t.Errorf("FindAccountByID in the transaction: %v", err)
		}
		_, err := s.FindAccountByID(ctx, "acme")
		wantCode(t, "FindAccountByID outside the transaction before commit", err, skyfence.ENOTFOUND)
		return nil
	})
	if _, err := s.FindAccountByID(ctx, "acme"); err != nil {
		t.Errorf("FindAccountByID after commit: %v", err)
	}
}

// auditHead returns r's audit head, failing the test on an error.
func auditHead(t testing.TB, r skyfence.Reader) (int64, []byte) {
	t.Helper()
	seq, hash, err := r.AuditHead(t.Context())
	if err != nil {
		t.Fatalf("AuditHead: %v", err)
	}
	return seq, hash
}

// queryAudit returns the entries QueryAudit(q) streams from r.
func queryAudit(t testing.TB, r skyfence.Reader, q skyfence.AuditQuery) []*skyfence.AuditEntry {
	t.Helper()
	var es []*skyfence.AuditEntry
	if err := r.QueryAudit(t.Context(), q, func(e *skyfence.AuditEntry) error {
		es = append(es, e)
		return nil
	}); err != nil {
		t.Fatalf("QueryAudit(%+v): %v", q, err)
	}
	return es
}

// testAuditStream checks QueryAudit's stream against FindAudit, and
// AuditHead, in and out of a transaction.
func testAuditStream(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	if seq, hash := auditHead(t, s); seq != 0 || !bytes.Equal(hash, make([]byte, 32)) {
		t.Errorf("AuditHead of an empty log: %d, %x; want 0 and 32 zero bytes", seq, hash)
	}
	if es := queryAudit(t, s, skyfence.AuditQuery{}); len(es) != 0 {
		t.Errorf("QueryAudit of an empty log: %d entries", len(es))
	}

	appendConcurrently(t, []skyfence.Store{s}, 4, 60)
	all, err := s.FindAudit(ctx, 1, 0)
	if err != nil {
		t.Fatalf("FindAudit: %v", err)
	}
	same(t, "QueryAudit of everything", queryAudit(t, s, skyfence.AuditQuery{}), all)
	seq, hash := auditHead(t, s)
	if seq != 60 || !bytes.Equal(hash, all[59].Hash) {
		t.Errorf("AuditHead: %d, %x; want the last entry's, 60, %x", seq, hash, all[59].Hash)
	}

	n := 0
	err = s.QueryAudit(ctx, skyfence.AuditQuery{}, func(e *skyfence.AuditEntry) error {
		if n++; e.Seq != int64(n) {
			t.Errorf("QueryAudit: call %d has entry %d", n, e.Seq)
		}
		if n == 5 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || n != 5 {
		t.Errorf("QueryAudit stopping at the fifth: got %v after %d calls, want %v after 5", err, n, errStop)
	}

	// In a transaction, the head and the stream include its appends; once
	// it is rolled back, they are as before.
	last2 := skyfence.AuditQuery{Newest: true, Limit: 2}
	err = s.Tx(ctx, func(tx skyfence.Tx) error {
		e := &skyfence.AuditEntry{Action: "test.uncommitted"}
		if err := tx.AppendAudit(ctx, e); err != nil {
			return err
		}
		if seq, hash := auditHead(t, tx); seq != 61 || !bytes.Equal(hash, e.Hash) {
			t.Errorf("AuditHead in the appending transaction: %d, %x; want 61, %x", seq, hash, e.Hash)
		}
		same(t, "QueryAudit of the last two in the appending transaction", queryAudit(t, tx, last2), []*skyfence.AuditEntry{e, all[59]})
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("Tx: %v", err)
	}
	if seq, hash := auditHead(t, s); seq != 60 || !bytes.Equal(hash, all[59].Hash) {
		t.Errorf("AuditHead after a rolled-back append: %d, %x; want 60, %x", seq, hash, all[59].Hash)
	}
	same(t, "QueryAudit after a rolled-back append", queryAudit(t, s, skyfence.AuditQuery{}), all)
}

// testAuditQuery checks QueryAudit's selections and orders against the
// same selections made by hand over the whole log.
func testAuditQuery(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	actions := []string{"case.action", "case.appeal", "terminal.status", "cases.misnamed", "key.revoke"}
	for i := range 40 {
		e := &skyfence.AuditEntry{
			Time:    t0.Add(time.Duration(i) * time.Hour),
			Actor:   []string{"ana", "ben"}[i%2],
			Action:  actions[i%len(actions)],
			Subject: fmt.Sprintf("t%d", i%3),
			Reason:  "because",
		}
		if err := appendAudit(t, s, e); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.FindAudit(ctx, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := func(keep func(*skyfence.AuditEntry) bool, newest bool, limit int) []*skyfence.AuditEntry {
		var out []*skyfence.AuditEntry
		for _, e := range all {
			if keep(e) {
				out = append(out, e)
			}
		}
		if newest {
			slices.Reverse(out)
		}
		if limit > 0 && len(out) > limit {
			out = out[:limit]
		}
		return out
	}
	since, until := t0.Add(10*time.Hour), t0.Add(30*time.Hour)
	for _, tc := range []struct {
		name string
		q    skyfence.AuditQuery
		keep func(*skyfence.AuditEntry) bool
	}{
		{"everything", skyfence.AuditQuery{}, func(*skyfence.AuditEntry) bool { return true }},
		{"action prefix", skyfence.AuditQuery{ActionPrefix: "case."}, func(e *skyfence.AuditEntry) bool { return strings.HasPrefix(e.Action, "case.") }},
		{"actions", skyfence.AuditQuery{Actions: []string{"case.appeal", "key.revoke"}},
			func(e *skyfence.AuditEntry) bool { return e.Action == "case.appeal" || e.Action == "key.revoke" }},
		{"actor and subject", skyfence.AuditQuery{Actor: "ben", Subject: "t1"}, func(e *skyfence.AuditEntry) bool { return e.Actor == "ben" && e.Subject == "t1" }},
		{"period", skyfence.AuditQuery{Since: since, Until: until},
			func(e *skyfence.AuditEntry) bool { return !e.Time.Before(since) && e.Time.Before(until) }},
		{"period and actions", skyfence.AuditQuery{Since: since, Until: until, Actions: []string{"case.action"}},
			func(e *skyfence.AuditEntry) bool {
				return !e.Time.Before(since) && e.Time.Before(until) && e.Action == "case.action"
			}},
		{"before", skyfence.AuditQuery{Before: 17}, func(e *skyfence.AuditEntry) bool { return e.Seq < 17 }},
	} {
		for _, newest := range []bool{false, true} {
			for _, limit := range []int{0, 3} {
				q := tc.q
				q.Newest, q.Limit = newest, limit
				name := fmt.Sprintf("QueryAudit %s (newest first %v, limit %d)", tc.name, newest, limit)
				same(t, name, queryAudit(t, s, q), want(tc.keep, newest, limit))
			}
		}
	}
	if got := queryAudit(t, s, skyfence.AuditQuery{Subject: "nobody"}); len(got) != 0 {
		t.Errorf("QueryAudit of a subject without entries: %d entries", len(got))
	}
	err = s.QueryAudit(ctx, skyfence.AuditQuery{Limit: -1}, func(*skyfence.AuditEntry) error { return nil })
	wantCode(t, "QueryAudit with a negative limit", err, skyfence.EINVALID)
}

// fakeSealer signs nothing: it records what it was asked to seal, as a
// checkpoint's note.
type fakeSealer struct{ calls int }

func (f *fakeSealer) SealAudit(_ context.Context, r skyfence.Reader, size int64, root tlog.Hash) ([]byte, string, error) {
	f.calls++
	return fmt.Appendf(nil, "test\n%d\n%x\n\n", size, root), "k", nil
}

// testAuditTree checks the tree the store keeps beside the chain: its
// hashes are the tree of the entries (tlog computed from them), a sealer
// is called once a transaction that appends and never for one that rolls
// back, and cosignatures are kept once.
func testAuditTree(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	if _, err := s.FindAuditCheckpoint(ctx, 0); skyfence.ErrorCode(err) != skyfence.ENOTFOUND {
		t.Errorf("FindAuditCheckpoint of an empty log: %v, want ENOTFOUND", err)
	}
	f := &fakeSealer{}
	s.SetAuditSealer(f)
	defer s.SetAuditSealer(nil)
	Append(t, s, 300)
	mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error { return nil }) // appends nothing: no seal
	txCode(t, s, "a rolled-back append", skyfence.ECONFLICT, func(ctx context.Context, tx skyfence.Tx) error {
		if err := tx.AppendAudit(ctx, &skyfence.AuditEntry{Actor: "a", Action: "b"}); err != nil {
			return err
		}
		return skyfence.Errorf(skyfence.ECONFLICT, "roll back")
	})
	if f.calls != 300 {
		t.Errorf("the sealer was called %d times, want 300: once a committed transaction that appends", f.calls)
	}
	es, err := s.FindAudit(ctx, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]tlog.Hash{}
	read := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = want[x]
		}
		return out, nil
	})
	for n, e := range es {
		hs, err := tlog.StoredHashes(int64(n), e.Canonical(), read)
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range hs {
			want[tlog.StoredHashIndex(0, int64(n))+int64(i)] = h
		}
	}
	idx := make([]int64, 0, len(want))
	for x := range want {
		idx = append(idx, x)
	}
	got, err := s.ReadAuditHashes(ctx, idx)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range idx {
		if got[i] != want[x] {
			t.Fatalf("stored hash %d is %s, the tree of the entries has %s", x, got[i], want[x])
		}
	}
	if _, err := s.ReadAuditHashes(ctx, []int64{tlog.StoredHashCount(300)}); skyfence.ErrorCode(err) != skyfence.ENOTFOUND {
		t.Errorf("a hash beyond the tree: %v, want ENOTFOUND", err)
	}
	root, _ := tlog.TreeHash(300, read)
	c, err := s.FindAuditCheckpoint(ctx, 0)
	if err != nil || c.Size != 300 || c.Root != root || c.KeyID != "k" {
		t.Fatalf("latest checkpoint %+v, %v; want size 300 and the tree's root %s", c, err, root)
	}
	n := 0
	if err := s.ForEachAuditCheckpoint(ctx, 291, func(c *skyfence.AuditCheckpoint) error { n++; return nil }); err != nil || n != 10 {
		t.Errorf("ForEachAuditCheckpoint from 291: %d, %v; want 10", n, err)
	}
	cs := &skyfence.AuditCosignature{Size: 300, Key: "w+00000000+x", Line: "— w AAAA\n", Time: t0}
	for range 2 {
		mustTx(t, s, func(ctx context.Context, tx skyfence.Tx) error { return tx.AddAuditCosignature(ctx, cs) })
	}
	if got, err := s.FindAuditCosignatures(ctx, 0); err != nil || len(got) != 1 || got[0].Line != cs.Line || got[0].Size != 300 {
		t.Errorf("cosignatures after adding one twice: %+v, %v", got, err)
	}
	if got, err := s.FindAuditCosignatures(ctx, 299); err != nil || len(got) != 0 {
		t.Errorf("cosignatures of an uncosigned checkpoint: %+v, %v", got, err)
	}
}

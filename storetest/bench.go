package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

// BenchmarkSaveStates measures SaveStates with batches of 10,000 states:
// "insert" writes new terminals each time, "update" rewrites the same ones.
// It reports states/s.
func BenchmarkSaveStates(b *testing.B, s skyfence.Store) {
	const batch = 10000
	b.Run("insert", func(b *testing.B) {
		ss := states(batch, 1, t0)
		written := 0
		for b.Loop() {
			for i, st := range ss {
				st.TerminalID = fmt.Sprintf("b%09d", written+i)
			}
			if err := s.SaveStates(b.Context(), ss); err != nil {
				b.Fatal(err)
			}
			written += batch
		}
		b.ReportMetric(float64(written)/b.Elapsed().Seconds(), "states/s")
	})
	b.Run("update", func(b *testing.B) {
		ss := states(batch, 2, t0)
		written := 0
		for b.Loop() {
			for _, st := range ss {
				st.DecidedAt = st.DecidedAt.Add(time.Second)
			}
			if err := s.SaveStates(b.Context(), ss); err != nil {
				b.Fatal(err)
			}
			written += batch
		}
		b.ReportMetric(float64(written)/b.Elapsed().Seconds(), "states/s")
	})
}

// BenchmarkForEachTerminal measures ForEachTerminal over n terminals, one in
// ten with two verifications, created first. It reports terminals/s.
func BenchmarkForEachTerminal(b *testing.B, s skyfence.Store, n int) {
	account(b, s, "acct")
	mustTx(b, s, func(ctx context.Context, tx skyfence.Tx) error {
		for i := range n {
			term := &skyfence.Terminal{ID: fmt.Sprintf("t%08d", i), AccountID: "acct", Plan: "roam", Country: "UA", CreatedAt: t0}
			if i%10 == 0 {
				term.Verifications = []skyfence.Verification{
					{ID: fmt.Sprintf("v%08d-a", i), Region: "UA", Authority: "UA-MOD", VerifiedAt: t0},
					{ID: fmt.Sprintf("v%08d-b", i), Region: "PL", Authority: "PL-MON", VerifiedAt: t0},
				}
			}
			if err := tx.CreateTerminal(ctx, term); err != nil {
				return err
			}
		}
		return nil
	})
	seen := 0
	for b.Loop() {
		if err := s.ForEachTerminal(b.Context(), func(*skyfence.Terminal) error {
			seen++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	if seen != n*b.N {
		b.Fatalf("ForEachTerminal saw %d terminals in %d runs, want %d each", seen, b.N, n)
	}
	b.ReportMetric(float64(seen)/b.Elapsed().Seconds(), "terminals/s")
}

// BenchmarkAuditPeriod reads one day's case actions from a log of n
// entries spread over 100 days, one in fifty a case action: the way the
// regulator's report reads the log (QueryAudit by period and actions,
// through the stores' indexes), against the way it read it before
// (every entry from the first, filtered as it streams).
func BenchmarkAuditPeriod(b *testing.B, s skyfence.Store, n int) {
	const batch = 1000
	step := 100 * 24 * time.Hour / time.Duration(n)
	for lo := 0; lo < n; lo += batch {
		mustTx(b, s, func(ctx context.Context, tx skyfence.Tx) error {
			for i := lo; i < min(lo+batch, n); i++ {
				action := "terminal.status"
				if i%50 == 0 {
					action = "case.action"
				}
				e := &skyfence.AuditEntry{Time: t0.Add(time.Duration(i) * step), Actor: "ana", Action: action,
					Subject: fmt.Sprintf("t%d", i%1000), Data: json.RawMessage(`{"action":"suspend"}`)}
				if err := tx.AppendAudit(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
	}
	since, until := t0.Add(50*24*time.Hour), t0.Add(51*24*time.Hour)
	want := 0
	inPeriod := func(e *skyfence.AuditEntry) bool {
		return e.Action == "case.action" && !e.Time.Before(since) && e.Time.Before(until)
	}
	for i := range n {
		if at := t0.Add(time.Duration(i) * step); i%50 == 0 && !at.Before(since) && at.Before(until) {
			want++
		}
	}
	check := func(b *testing.B, got int) {
		if got != want {
			b.Fatalf("read %d of the day's case actions, want %d", got, want)
		}
	}
	b.Run("query", func(b *testing.B) {
		for b.Loop() {
			got := 0
			q := skyfence.AuditQuery{Since: since, Until: until, Actions: []string{"case.action"}}
			if err := s.QueryAudit(b.Context(), q, func(*skyfence.AuditEntry) error { got++; return nil }); err != nil {
				b.Fatal(err)
			}
			check(b, got)
		}
	})
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			got := 0
			if err := s.QueryAudit(b.Context(), skyfence.AuditQuery{}, func(e *skyfence.AuditEntry) error {
				if inPeriod(e) {
					got++
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			check(b, got)
		}
	})
}

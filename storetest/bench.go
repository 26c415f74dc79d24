package storetest

import (
	"context"
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

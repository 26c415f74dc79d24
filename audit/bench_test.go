package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/audit"
)

// BenchmarkAppendSealed appends one entry a transaction to a sealed log,
// each commit signing its checkpoint, while another goroutine serves
// inclusion proofs of entries against the latest checkpoint. It reports
// entries/s, the p99 append latency and the proofs served; sealed=false
// appends without signing (the tree alone), for comparison.
//
//	go test ./audit -run XXX -bench AppendSealed -benchtime 2000x
func BenchmarkAppendSealed(b *testing.B) {
	for _, st := range []struct {
		name string
		open func(b *testing.B) skyfence.Store
	}{
		{"sqlite", func(b *testing.B) skyfence.Store { return openSQLite(b, sqliteFile(b)) }},
		{"postgres", func(b *testing.B) skyfence.Store { postgresURL(b); s, _ := openPostgres(b); return s }},
	} {
		for _, seal := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/sealed=%v", st.name, seal), func(b *testing.B) {
				s := st.open(b)
				sealed(b, s, signer(1))
				appendEntries(b, s, 2, 1000)
				if !seal {
					s.SetAuditSealer(nil) // the cost of the tree alone
				}
				ctx, cancel := context.WithCancel(b.Context())
				var proofs atomic.Int64
				var wg sync.WaitGroup
				wg.Go(func() {
					for i := int64(1); ctx.Err() == nil; i = i%1000 + 1 {
						if _, err := audit.ProveInclusion(ctx, s, i, 0); err == nil {
							proofs.Add(1)
						}
					}
				})
				lat := make([]time.Duration, 0, b.N)
				data := json.RawMessage(`{"from":"active","to":"suspended"}`)
				for i := 0; b.Loop(); i++ {
					start := time.Now()
					if err := s.Tx(b.Context(), func(tx skyfence.Tx) error {
						return tx.AppendAudit(b.Context(), &skyfence.AuditEntry{Actor: "key-1", Action: "terminal.status", Subject: fmt.Sprintf("UT-%d", i), Data: data})
					}); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
				}
				elapsed := b.Elapsed()
				cancel()
				wg.Wait()
				slices.Sort(lat)
				b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "entries/s")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(proofs.Load())/elapsed.Seconds(), "proofs/s")
			})
		}
	}
}

// memLog is a log in memory, with a checkpoint every 100 entries: what
// Verify reads, without a store's cost.
type memLog struct {
	es  []*skyfence.AuditEntry
	cps []*skyfence.AuditCheckpoint
}

func (l *memLog) FindAudit(_ context.Context, from int64, limit int) ([]*skyfence.AuditEntry, error) {
	if from > int64(len(l.es)) {
		return nil, nil
	}
	return l.es[from-1 : min(int64(len(l.es)), from-1+int64(limit))], nil
}

func (l *memLog) ReadAuditHashes(context.Context, []int64) ([]tlog.Hash, error) {
	return nil, skyfence.Errorf(skyfence.ENOTFOUND, "not kept")
}

func (l *memLog) ForEachAuditCheckpoint(_ context.Context, from int64, fn func(*skyfence.AuditCheckpoint) error) error {
	for _, c := range l.cps {
		if c.Size >= from {
			if err := fn(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// BenchmarkVerify1M verifies a log of 1,000,000 entries (chain, tree, and
// 10,000 signed checkpoints) and reports the time and the peak heap.
//
//	go test ./audit -run XXX -bench Verify1M -benchtime 1x
func BenchmarkVerify1M(b *testing.B) {
	const n = 1_000_000
	k := signer(1)
	l := &memLog{es: make([]*skyfence.AuditEntry, 0, n)}
	key := keyEntry(b, k)
	l.es = append(l.es, key)
	tree := map[int64]tlog.Hash{}
	read := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = tree[x]
		}
		return out, nil
	})
	add := func(e *skyfence.AuditEntry) {
		hs, err := tlog.StoredHashes(e.Seq-1, e.Canonical(), read)
		if err != nil {
			b.Fatal(err)
		}
		for i, h := range hs {
			tree[tlog.StoredHashIndex(0, e.Seq-1)+int64(i)] = h
		}
		if e.Seq%100 == 0 {
			root, _ := tlog.TreeHash(e.Seq, read)
			msg, _ := k.SignCheckpoint(audit.Checkpoint{Origin: origin, Size: e.Seq, Root: root})
			l.cps = append(l.cps, &skyfence.AuditCheckpoint{Size: e.Seq, Root: root, KeyID: k.KeyID(), Note: msg})
		}
	}
	add(key)
	prev := key.Hash
	for i := int64(2); i <= n; i++ {
		e := &skyfence.AuditEntry{Seq: i, Time: epoch.Add(time.Duration(i) * time.Millisecond), Actor: "key-1", Action: "terminal.status",
			Subject: fmt.Sprintf("UT-%07d", i), Reason: "case", Data: json.RawMessage(`{"from":"active","to":"suspended"}`), PrevHash: prev}
		e.Hash = e.Digest(prev)
		prev = e.Hash
		l.es = append(l.es, e)
		add(e)
	}
	clear(tree)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	for b.Loop() {
		var peak atomic.Uint64
		done := make(chan struct{})
		go func() {
			var m runtime.MemStats
			for {
				select {
				case <-done:
					return
				case <-time.After(20 * time.Millisecond):
					runtime.ReadMemStats(&m)
					if m.HeapAlloc > peak.Load() {
						peak.Store(m.HeapAlloc)
					}
				}
			}
		}()
		rep, err := audit.Verify(b.Context(), l, audit.VerifyOptions{})
		close(done)
		if err != nil || rep.Problem != nil || rep.Entries != n || rep.TreeCheckpoints != n/100 {
			b.Fatalf("verify: %v %+v", err, rep)
		}
		b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapAlloc))/(1<<20), "peak-MiB-over-log")
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/verify")
}

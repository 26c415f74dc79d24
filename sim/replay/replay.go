// Package replay sends a simulated fleet's fixes to skyfence in simulated
// time and counts the decisions that come back, by behaviour and reason:
// to a control.Service in this process (InProcess), or to a running server
// over HTTP (HTTP).
//
// Run walks simulated time one second at a time from the fleet's start.
// Each second's fixes (each terminal at most once) go out in batches from
// several workers at once; the next second starts when every batch of the
// last is answered, so a terminal's fixes arrive in order. With a speedup,
// simulated time is held to that many times real time (60: a simulated
// minute per real second); when the target cannot keep up, Run goes as
// fast as it can and reports how far behind it is. Options.MaxAhead holds
// simulated time to at most that far ahead of the real clock, for a server
// that refuses fixes from the future.
//
// replay owns the run in simulated time and its summary. It drives skyfence
// from outside: it imports sim, the service (control, for InProcess, with
// an SQLite store) and the engines' types, but never httpapi, whose server
// it reaches only over HTTP as a gateway does; no engine imports it
// (layout_test.go).
package replay

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/sim"
)

// Target takes a fleet's terminals and decides their fixes.
type Target interface {
	// Register makes every terminal of the fleet known to the target and
	// gives it service where it can, writing progress to log.
	Register(ctx context.Context, f *sim.Fleet, log io.Writer) error
	// Send decides a batch of fixes (at most authorizer.MaxBatch), writing
	// the outcome of fixes[i] to out[i]. It is called from several
	// goroutines at once.
	Send(ctx context.Context, fixes []skyfence.Fix, out []Outcome) error
}

// Outcome is what became of one fix: the decision's reason, or refused if
// the fix was not applied (its result was an error).
type Outcome struct {
	Reason  policy.Reason
	Refused bool
}

// Options say how Run replays. Zero fields take their defaults.
type Options struct {
	// Duration is how much simulated time to replay; default 30 minutes.
	Duration time.Duration
	// Speedup is simulated seconds per real second; 0 runs as fast as the
	// target allows.
	Speedup float64
	// Batch is how many fixes go in one Send; default 1,000.
	Batch int
	// Workers is how many Sends are in flight at once; default GOMAXPROCS.
	Workers int
	// MaxAhead, if not zero, holds every fix to at most that far ahead of
	// the real clock, whatever the speedup: a server refuses fixes dated
	// more than 5 minutes ahead of its own clock.
	MaxAhead time.Duration
	// Progress, if not nil, gets a line every real second.
	Progress io.Writer
	// Dropped, if not nil, says how many observations detection has
	// dropped so far (its queue full); each progress line then shows the
	// count and how many since the line before.
	Dropped func() uint64
}

// Run replays the fleet's fixes from its start for opts.Duration into the
// target, whose terminals must be registered already, and returns the
// counts. It stops early, with the counts so far and the context's error,
// if ctx is done, and at the first error of a Send.
func Run(ctx context.Context, f *sim.Fleet, t Target, opts Options) (*Summary, error) {
	if opts.Duration == 0 {
		opts.Duration = 30 * time.Minute
	}
	opts.Batch = cmpOr(opts.Batch, 1000)
	opts.Workers = cmpOr(opts.Workers, runtime.GOMAXPROCS(0))
	sum := newSummary(f, opts)
	secs := int64(opts.Duration / time.Second)
	begin := time.Now()
	prog := progress{w: opts.Progress, last: begin, sum: sum, dropped: opts.Dropped}
	workers := make([]worker, opts.Workers)
	var fixes []skyfence.Fix
	var err error
	for s := int64(0); s < secs && err == nil; s++ {
		at := f.Start().Add(time.Duration(s) * time.Second)
		var due time.Time
		if opts.Speedup > 0 {
			due = begin.Add(time.Duration(float64(s) / opts.Speedup * float64(time.Second)))
		}
		if opts.MaxAhead > 0 && at.Add(-opts.MaxAhead).After(due) {
			due = at.Add(-opts.MaxAhead)
		}
		if err = sleepUntil(ctx, due); err != nil {
			break
		}
		fixes = f.AppendFixes(fixes[:0], at, at.Add(time.Second))
		err = sendSecond(ctx, f, t, fixes, workers, opts.Batch)
		for w := range workers {
			sum.add(&workers[w].counts)
			workers[w].counts = counts{}
		}
		sum.SimSeconds = float64(s + 1)
		if now := time.Now(); now.Sub(prog.last) >= time.Second {
			prog.line(now, begin, opts.Speedup)
		}
	}
	sum.finish(time.Since(begin))
	if err == nil {
		err = ctx.Err()
	}
	return sum, err
}

func cmpOr(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func sleepUntil(ctx context.Context, due time.Time) error {
	d := time.Until(due)
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// counts are decisions by behaviour and outcome: a reason, or refused at
// index policy.NumReasons.
type counts [sim.NumBehaviours][policy.NumReasons + 1]int64

// worker is one sender's counts and scratch space.
type worker struct {
	counts counts
	out    []Outcome
}

// sendSecond sends one second's fixes in batches, the workers taking
// batches in turn, and waits for every answer.
func sendSecond(ctx context.Context, f *sim.Fleet, t Target, fixes []skyfence.Fix, workers []worker, batch int) error {
	nb := (len(fixes) + batch - 1) / batch
	errs := make([]error, len(workers))
	var wg sync.WaitGroup
	for w := range min(len(workers), nb) {
		wg.Go(func() {
			wk := &workers[w]
			for b := w; b < nb; b += len(workers) {
				part := fixes[b*batch : min((b+1)*batch, len(fixes))]
				wk.out = slices.Grow(wk.out[:0], len(part))[:len(part)]
				if errs[w] = t.Send(ctx, part, wk.out); errs[w] != nil {
					return
				}
				for i, o := range wk.out {
					k, _ := f.Index(part[i].TerminalID)
					col := int(o.Reason)
					if o.Refused {
						col = policy.NumReasons
					}
					wk.counts[f.Behaviour(k)][col]++
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// progress writes a line a second: where simulated time is, the rate of
// fixes since the last line, and the share of each reason among them.
type progress struct {
	w     io.Writer
	last  time.Time
	sum   *Summary
	fixes int64
	prev  [policy.NumReasons + 1]int64

	dropped     func() uint64
	prevDropped uint64
}

func (p *progress) line(now, begin time.Time, speedup float64) {
	if p.w == nil {
		return
	}
	var cur [policy.NumReasons + 1]int64
	for b := range p.sum.counts {
		for r, n := range p.sum.counts[b] {
			cur[r] += n
		}
	}
	var d [policy.NumReasons + 1]int64
	var n int64
	for r := range cur {
		d[r] = cur[r] - p.prev[r]
		n += d[r]
	}
	at := time.Duration(p.sum.SimSeconds) * time.Second
	var b strings.Builder
	fmt.Fprintf(&b, "sim %s  %5.1fx", clock(at), at.Seconds()/now.Sub(begin).Seconds())
	if speedup > 0 {
		if behind := now.Sub(begin).Seconds() - at.Seconds()/speedup; behind > 1 {
			fmt.Fprintf(&b, " (%.0f s behind)", behind)
		}
	}
	fmt.Fprintf(&b, "  %9s fixes/s  total %s ", thousands(float64(n)/now.Sub(p.last).Seconds()), thousands(float64(p.sum.Fixes)))
	for _, r := range topReasons(d[:], 5) {
		fmt.Fprintf(&b, " %s %.1f%%", reasonName(r), 100*float64(d[r])/float64(max(n, 1)))
	}
	if p.dropped != nil {
		dr := p.dropped()
		fmt.Fprintf(&b, "  detection dropped %s (+%s)", thousands(float64(dr)), thousands(float64(dr-p.prevDropped)))
		p.prevDropped = dr
	}
	fmt.Fprintln(p.w, b.String())
	p.last, p.prev = now, cur
}

// topReasons returns the indices of the k largest counts, largest first,
// leaving out zeros.
func topReasons(c []int64, k int) []int {
	var idx []int
	for r, n := range c {
		if n > 0 {
			idx = append(idx, r)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(c[b], c[a]) })
	return idx[:min(k, len(idx))]
}

// reasonName is a reason's code, or "refused" past the last reason.
func reasonName(r int) string {
	if r == policy.NumReasons {
		return "refused"
	}
	return policy.Reason(r).String()
}

// clock formats a duration as h:mm:ss.
func clock(d time.Duration) string {
	s := int64(d / time.Second)
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

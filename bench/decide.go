package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/atlas"
	"github.com/skyfence/skyfence/examples"
	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/sim"
	"github.com/skyfence/skyfence/world"
)

// Scenario compiles the embedded scenario policy (examples/policy) over the
// 1:10m boundaries: what the suite's decide, impact, memory and moonshot
// parts decide with.
func Scenario() (*policy.Snapshot, error) {
	d, err := world.Load(world.Res10m)
	if err != nil {
		return nil, err
	}
	a, err := atlas.New(d, geoindex.Options{})
	if err != nil {
		return nil, err
	}
	src, err := policy.LoadWith(examples.PolicyFile, examples.ReadPolicyFile)
	if err != nil {
		return nil, err
	}
	return policy.Compile(src, a)
}

// DecideConfig says what Decide measures. Zero fields take their defaults.
type DecideConfig struct {
	Terminals int           // simulated fleet (package sim); default 1,000,000
	Seed      uint64        // of the fleet; default 1
	MinTime   time.Duration // each measurement runs at least this long; default 2 s
}

// DecideResult is what Decide measured: decisions a second with
// Snapshot.DecideBatch, 1,000 fixes a call, over a simulated fleet where
// it is ten minutes after its start (spatial lookups included).
type DecideResult struct {
	Terminals int `json:"terminals"`
	Batch     int `json:"batch"`
	// OneCore is decisions/s on one goroutine.
	OneCore float64 `json:"one_core_per_s"`
	// AllCores is decisions/s on Workers goroutines (GOMAXPROCS), and
	// PerCore that divided by Workers.
	AllCores float64 `json:"all_cores_per_s"`
	PerCore  float64 `json:"per_core_per_s"`
	Workers  int     `json:"workers"`
	Allowed  float64 `json:"allowed_share"`
}

// Decide measures DecideBatch over a simulated fleet: first on one
// goroutine, then on every core, each over the whole fleet in turn.
func Decide(ctx context.Context, snap *policy.Snapshot, cfg DecideConfig, log io.Writer) (*DecideResult, error) {
	cfg.Terminals = cmp.Or(cfg.Terminals, 1_000_000)
	cfg.Seed = cmp.Or(cfg.Seed, 1)
	cfg.MinTime = cmp.Or(cfg.MinTime, 2*time.Second)
	f, err := sim.Generate(sim.Config{Terminals: cfg.Terminals, Seed: cfg.Seed, Policy: snap})
	if err != nil {
		return nil, err
	}
	ts, fixes := fleetAt(f, f.Start().Add(10*time.Minute))
	const batch = 1000
	res := &DecideResult{Terminals: cfg.Terminals, Batch: batch, Workers: runtime.GOMAXPROCS(0)}
	out := make([]policy.Decision, len(fixes))
	allowed := 0
	snap.DecideBatch(ts, nil, fixes, out)
	for i := range out {
		if out[i].Allow {
			allowed++
		}
	}
	res.Allowed = float64(allowed) / float64(len(out))
	fmt.Fprintf(log, "bench decide: %d terminals of a simulated fleet\n", len(fixes))
	if res.OneCore, err = decideRate(ctx, snap, ts, fixes, out, 1, batch, cfg.MinTime); err != nil {
		return nil, err
	}
	if res.AllCores, err = decideRate(ctx, snap, ts, fixes, out, res.Workers, batch, cfg.MinTime); err != nil {
		return nil, err
	}
	res.PerCore = res.AllCores / float64(res.Workers)
	fmt.Fprintf(log, "bench decide: %.0f/s on one goroutine, %.0f/s on %d\n", res.OneCore, res.AllCores, res.Workers)
	return res, nil
}

// fleetAt returns every terminal of the fleet and its fix at t; a terminal
// that is off then gets its position at home.
func fleetAt(f *sim.Fleet, t time.Time) ([]*skyfence.Terminal, []skyfence.Fix) {
	ts := make([]*skyfence.Terminal, f.Len())
	fixes := make([]skyfence.Fix, f.Len())
	for i := range f.Len() {
		ts[i] = f.Terminal(i)
		fx, on := f.FixAt(i, t)
		if !on {
			h := f.Home(i)
			fx.Lat, fx.Lon = h[0], h[1]
		}
		fixes[i] = fx
	}
	return ts, fixes
}

// decideRate decides the fleet in batches on workers goroutines, each
// taking every workers-th batch, in whole passes for at least minTime, and
// returns decisions a second.
func decideRate(ctx context.Context, snap *policy.Snapshot, ts []*skyfence.Terminal, fixes []skyfence.Fix, out []policy.Decision, workers, batch int, minTime time.Duration) (float64, error) {
	var n int64
	start := time.Now()
	for n == 0 || time.Since(start) < minTime {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for lo := w * batch; lo < len(fixes); lo += workers * batch {
					hi := min(lo+batch, len(fixes))
					snap.DecideBatch(ts[lo:hi], nil, fixes[lo:hi], out[lo:hi])
				}
			})
		}
		wg.Wait()
		n += int64(len(fixes))
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// Markdown renders the result as a short table.
func (r *DecideResult) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "`Snapshot.DecideBatch` (%d fixes a call) over a simulated fleet of %s terminals ten minutes after its start (%.1f %% allowed), spatial lookups included:\n\n",
		r.Batch, thousands(float64(r.Terminals)), 100*r.Allowed)
	b.WriteString("| one goroutine | all cores | cores | per core |\n|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %s/s | %s/s | %d | %s/s |\n", thousands(r.OneCore), thousands(r.AllCores), r.Workers, thousands(r.PerCore))
	return b.String()
}

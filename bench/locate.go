// Package bench measures skyfence against other engines. Locate is the
// harness behind `skyfence-bench locate` and the numbers in the docs: it
// builds every engine on the same countries, asks each the same points,
// and reports speed, memory and agreement with geoindex.Reference side by
// side, from one run on one machine.
//
// bench owns the comparisons with other engines and the benchmark
// harnesses. It imports the engines, the service and the benchmark peers;
// no engine, store or adapter imports it.
package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/world"
	"github.com/skyfence/skyfence/world/worldtest"
)

// Baseline is the engine every rate is compared with: the geometry engine
// of the Tile38 geofencing server.
const Baseline = "tidwall"

// LocateConfig says what Locate measures. The zero value of a field gives
// its default.
type LocateConfig struct {
	// Resolution of the country data; the zero value is 1:10m.
	Resolution world.Resolution
	// Points is the number of points made by worldtest.Points (half uniform
	// on the sphere, half within 50 km of a boundary); default 1,000,000.
	Points int
	// Seed for the points; default 1.
	Seed uint64
	// MinTime is how long each engine is timed at least, in whole passes
	// over its points; default 2s.
	MinTime time.Duration
	// Engines to measure, by name (see EngineNames); default all.
	Engines []string
	// PeerPoints is how many of the points (the first ones) the peers are
	// timed on, since they are slow; skyfence's engines are timed on all.
	// Agreement is measured on all points for every engine. Default 200,000.
	PeerPoints int
}

func (c *LocateConfig) defaults() {
	c.Points = cmp.Or(c.Points, 1_000_000)
	c.Seed = cmp.Or(c.Seed, 1)
	c.MinTime = cmp.Or(c.MinTime, 2*time.Second)
	c.PeerPoints = cmp.Or(c.PeerPoints, 200_000)
}

// LocateResult is what Locate measured. It serialises to JSON as is.
type LocateResult struct {
	Resolution string    `json:"resolution"`
	Points     int       `json:"points"`
	Seed       uint64    `json:"seed"`
	MinTimeSec float64   `json:"min_time_s"`
	Baseline   string    `json:"baseline"`
	Machine    Machine   `json:"machine"`
	RefSec     float64   `json:"reference_s"` // time to answer every point with geoindex.Reference
	Engines    []Measure `json:"engines"`
}

// Measure is one engine's line of the result.
type Measure struct {
	Engine   string  `json:"engine"`
	BuildSec float64 `json:"build_s"`
	// HeapBytes is the growth of the live heap across the build, after a
	// garbage collection on either side.
	HeapBytes int64 `json:"heap_bytes"`
	// LookupsPerSec is single-goroutine lookups a second over PointsTimed
	// points, in whole passes for at least MinTime.
	LookupsPerSec float64 `json:"lookups_per_s"`
	// VsBaseline is LookupsPerSec over the baseline's (0 if the baseline was
	// not measured).
	VsBaseline  float64 `json:"vs_baseline"`
	PointsTimed int     `json:"points_timed"`
	Lookups     int64   `json:"lookups"` // lookups timed in all
	// Agreement is the fraction of all points for which the engine's region
	// set equals geoindex.Reference's.
	Agreement float64 `json:"agreement"`
}

// sink keeps the checksums of the timed passes alive.
var sink uint64

// Locate loads the world at cfg.Resolution, builds every engine in
// cfg.Engines on the same shapes (region i is Data.Countries[i]), and
// measures each in turn: build time, heap, lookups a second on one
// goroutine, and agreement with geoindex.Reference. It writes progress to
// log. Only one engine is alive at a time, so that each one's heap and
// timing are its own.
func Locate(ctx context.Context, cfg LocateConfig, log io.Writer) (*LocateResult, error) {
	cfg.defaults()
	chosen, err := selectSpecs(cfg.Engines)
	if err != nil {
		return nil, err
	}
	d, err := world.Load(cfg.Resolution)
	if err != nil {
		return nil, err
	}
	shapes := make([]geoindex.Shape, len(d.Countries))
	for i, c := range d.Countries {
		shapes[i] = geoindex.Shape{Name: c.Code, Polygons: c.Polygons}
	}
	pts, err := worldtest.Points(shapes, cfg.Points, cfg.Seed)
	if err != nil {
		return nil, err
	}
	res := &LocateResult{
		Resolution: cfg.Resolution.String(),
		Points:     cfg.Points,
		Seed:       cfg.Seed,
		MinTimeSec: cfg.MinTime.Seconds(),
		Baseline:   Baseline,
		Machine:    machineFacts(),
	}
	fmt.Fprintf(log, "%s: %d countries, %d points; answering them with the reference\n", res.Resolution, len(shapes), len(pts))
	start := time.Now()
	ref, err := referenceAnswers(ctx, shapes, pts)
	if err != nil {
		return nil, err
	}
	res.RefSec = time.Since(start).Seconds()
	fmt.Fprintf(log, "reference: %.1f s\n", res.RefSec)

	for _, s := range chosen {
		m, err := measure(ctx, s, shapes, pts, ref, cfg)
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %w", s.name, err)
		}
		fmt.Fprintf(log, "%-16s build %6.2f s  heap %7.1f MB  %12.0f lookups/s  agreement %.4f%%\n",
			m.Engine, m.BuildSec, float64(m.HeapBytes)/(1<<20), m.LookupsPerSec, 100*m.Agreement)
		res.Engines = append(res.Engines, m)
	}
	if i := slices.IndexFunc(res.Engines, func(m Measure) bool { return m.Engine == Baseline }); i >= 0 {
		base := res.Engines[i].LookupsPerSec
		for j := range res.Engines {
			res.Engines[j].VsBaseline = res.Engines[j].LookupsPerSec / base
		}
	}
	return res, nil
}

// measure builds one engine and measures it.
func measure(ctx context.Context, s spec, shapes []geoindex.Shape, pts []geoindex.Point, ref *answers, cfg LocateConfig) (Measure, error) {
	m := Measure{Engine: s.name}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	r, err := s.build(shapes)
	if err != nil {
		return m, err
	}
	m.BuildSec = time.Since(start).Seconds()
	runtime.GC()
	runtime.ReadMemStats(&after)
	m.HeapBytes = int64(after.HeapAlloc) - int64(before.HeapAlloc)

	// Agreement first: it also warms the engine's memory for the timing.
	same := 0
	for lo := 0; lo < len(pts); lo += chunk {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		hi := min(lo+chunk, len(pts))
		r.answers(pts[lo:hi], func(i int, regs []int32) {
			if slices.Equal(regs, ref.of(lo+i)) {
				same++
			}
		})
	}
	m.Agreement = float64(same) / float64(len(pts))

	timed := pts
	if s.peer {
		timed = pts[:min(cfg.PeerPoints, len(pts))]
	}
	m.PointsTimed = len(timed)
	start = time.Now()
	var elapsed time.Duration
	for m.Lookups == 0 || elapsed < cfg.MinTime {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		sink += r.pass(timed)
		m.Lookups += int64(len(timed))
		elapsed = time.Since(start)
	}
	m.LookupsPerSec = float64(m.Lookups) / elapsed.Seconds()
	runtime.KeepAlive(r)
	return m, nil
}

// chunk is how many points are looked up between checks of the context
// while measuring agreement.
const chunk = 65536

// answers holds the reference's region set of every point, packed.
type answers struct {
	off  []int32 // regions of point i are regs[off[i]:off[i+1]]
	regs []int32
}

func (a *answers) of(i int) []int32 { return a.regs[a.off[i]:a.off[i+1]] }

// referenceAnswers answers every point with geoindex.Reference, on all
// GOMAXPROCS threads (Reference is slow: about 25 µs a point at 1:10m).
func referenceAnswers(ctx context.Context, shapes []geoindex.Shape, pts []geoindex.Point) (*answers, error) {
	ref, err := geoindex.NewReference(shapes)
	if err != nil {
		return nil, err
	}
	parts := make([]answers, (len(pts)+chunk-1)/chunk)
	next := make(chan int, len(parts))
	for i := range parts {
		next <- i
	}
	close(next)
	errs := make([]error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for k := range next {
				if errs[w] = ctx.Err(); errs[w] != nil {
					return
				}
				part := &parts[k]
				for _, p := range pts[k*chunk : min((k+1)*chunk, len(pts))] {
					part.off = append(part.off, int32(len(part.regs)))
					regs, err := ref.Lookup(p.Lon, p.Lat)
					if err != nil {
						errs[w] = err
						return
					}
					part.regs = append(part.regs, regs...)
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	all := &answers{off: make([]int32, 0, len(pts)+1)}
	for _, part := range parts {
		base := int32(len(all.regs))
		for _, o := range part.off {
			all.off = append(all.off, base+o)
		}
		all.regs = append(all.regs, part.regs...)
	}
	all.off = append(all.off, int32(len(all.regs)))
	return all, nil
}

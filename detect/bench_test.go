package detect

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

// fleet makes a reproducible stream of observations on the fly, so that a
// benchmark can run for as long as it likes without holding the stream in
// memory: n terminals report in turn, each every 15 s. Most stand still
// with GPS jitter, a fifth drive at 60-130 km/h, and bad is the share of
// bad actors: embargoed, drones, jumpers and clones, a quarter each.
type fleet struct {
	terms []*skyfence.Terminal
	kind  []uint8 // 0 still, 1 driving, 2 embargoed, 3 drone, 4 jumper, 5 clone
	lat   []float64
	lon   []float64
	dlat  []float64 // degrees moved per report
	dlon  []float64
}

func newFleet(n int, bad float64, seed uint64) *fleet {
	rng := rand.New(rand.NewPCG(seed, seed))
	f := &fleet{}
	plans := []string{"residential", "residential", "roam", "sponsored", "maritime"}
	for i := range n {
		f.terms = append(f.terms, terminal(fmt.Sprintf("UT-%08d", i), plans[rng.IntN(len(plans))], "PL"))
		k := uint8(0)
		switch r := rng.Float64(); {
		case r < bad:
			k = 2 + uint8(rng.IntN(4))
		case r < bad+0.2:
			k = 1
		}
		f.kind = append(f.kind, k)
		f.lat = append(f.lat, 45+rng.Float64()*10)
		f.lon = append(f.lon, 15+rng.Float64()*25)
		h, kmh := rng.Float64()*360, 60+rng.Float64()*70
		dlat, dlon := dest(0, 0, h, kmh*15/3600)
		f.dlat, f.dlon = append(f.dlat, dlat), append(f.dlon, dlon)
	}
	return f
}

// fill makes observation i of the stream into o.
func (f *fleet) fill(o *Observation, i int) {
	n := len(f.terms)
	k, round := i%n, i/n
	at := t0.Add(time.Duration(round)*15*time.Second + time.Duration(k)*(15*time.Second)/time.Duration(n))
	term := f.terms[k]
	// Cheap reproducible jitter, about 20 m.
	h := hashString(term.ID) ^ uint64(round)*0x9e3779b97f4a7c15
	jlat, jlon := float64(int64(h%401)-200)*1e-6, float64(int64(h>>20%401)-200)*1e-6
	lat, lon := f.lat[k]+jlat, f.lon[k]+jlon
	d := policy.Decision{Allow: true, Reason: policy.Ok, Country: "PL", Land: true, Located: true}
	alt := 0.0
	switch f.kind[k] {
	case 1:
		// An hour one way, an hour back.
		leg := float64(min(round%480, 480-round%480))
		lat, lon = f.lat[k]+leg*f.dlat[k], f.lon[k]+leg*f.dlon[k]
	case 2:
		d = policy.Decision{Reason: policy.RegionEmbargoed, Rule: "status:RU", Region: "RU", Country: "RU", Land: true, Located: true}
	case 3:
		// Zigzag: out on one heading, back on another, 500 m a report.
		if round%2 == 1 {
			lat, lon = f.lat[k]+0.004, f.lon[k]+0.003
		}
		alt = 120
	case 4:
		if round%2 == 1 {
			lat, lon = lat+5, lon+5
		}
	case 5:
		lat, lon = 50.45, 30.52
	}
	*o = Observation{
		Terminal: term,
		Fix:      skyfence.Fix{TerminalID: term.ID, Time: at, Lat: lat, Lon: lon, AltM: alt, SpeedKmh: skyfence.NoSpeed},
		Decision: d,
		Received: at,
	}
}

// BenchmarkProcess measures observations per second through one engine
// on one goroutine, for fleets of 10,000 and 1,000,000 terminals, honest
// or with 4 % bad actors.
func BenchmarkProcess(b *testing.B) {
	for _, sc := range []struct {
		name      string
		terminals int
		bad       float64
	}{
		{"honest/10k", 10_000, 0},
		{"honest/1M", 1_000_000, 0},
		{"bad4pct/10k", 10_000, 0.04},
		{"bad4pct/1M", 1_000_000, 0.04},
	} {
		b.Run(sc.name, func(b *testing.B) {
			f := newFleet(sc.terminals, sc.bad, 1)
			e := newEngine(b, func(c *Config) { c.Integrity.CloneFilterBits = 20 })
			var o Observation
			// One round to fill the engine, untimed.
			for i := range sc.terminals {
				f.fill(&o, i)
				e.Process(&o)
			}
			alerts := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				f.fill(&o, sc.terminals+i)
				alerts += len(e.Process(&o))
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "obs/s")
			b.ReportMetric(float64(alerts)/float64(b.N), "alerts/obs")
		})
	}
}

// BenchmarkQueue measures a producer offering batches of 1,000 while Run
// processes on another goroutine: what ingest would see.
func BenchmarkQueue(b *testing.B) {
	const terminals, batch = 100_000, 1000
	f := newFleet(terminals, 0.04, 1)
	e := newEngine(b, func(c *Config) { c.Integrity.CloneFilterBits = 20 })
	q := NewQueue(e)
	done := make(chan error)
	go func() { done <- q.Run(context.Background(), func(Alert) {}) }()
	buf := make([]Observation, batch)
	b.ResetTimer()
	next := 0
	for b.Loop() {
		for j := range buf {
			f.fill(&buf[j], next)
			next++
		}
		q.OfferBatch(buf)
	}
	q.Close()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	s := q.Stats()
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(s.Offered+s.Dropped)/secs, "offered/s")
	b.ReportMetric(float64(s.Engine.Observations)/secs, "processed/s")
	b.ReportMetric(100*float64(s.Dropped)/float64(s.Offered+s.Dropped), "dropped%")
}

// BenchmarkOffer measures what one Offer costs the caller (ingest), with
// Run draining on another goroutine.
func BenchmarkOffer(b *testing.B) {
	f := newFleet(100_000, 0.04, 1)
	q := NewQueue(newEngine(b, nil))
	done := make(chan error)
	go func() { done <- q.Run(context.Background(), func(Alert) {}) }()
	var o Observation
	f.fill(&o, 0)
	for b.Loop() {
		q.Offer(o)
	}
	q.Close()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

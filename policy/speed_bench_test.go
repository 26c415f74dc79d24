package policy

import (
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

// BenchmarkDecideDerivedSpeed is BenchmarkDecide for fixes that report no
// speed, each terminal's track holding a fix 15 s earlier 20 m away: the
// speed is derived on every decision.
func BenchmarkDecideDerivedSpeed(b *testing.B) {
	s := scenario(b)
	ts, fs := fleet(b, s, 1_000_000)
	tracks := make([]Track, len(ts))
	for i := range fs {
		fs[i].SpeedKmh = skyfence.NoSpeed
		before := fs[i]
		before.Time, before.Lat = before.Time.Add(-15*time.Second), before.Lat-0.00018
		tracks[i].Observe(before, &Decision{Located: true, Land: true, Country: "FR"}, "FR")
	}
	var sink int
	n := 0
	for b.Loop() {
		i := n % len(ts)
		d := s.Decide(ts[i], &tracks[i], fs[i])
		sink += int(d.Reason)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "decisions/s")
	_ = sink
}

// BenchmarkTrackSpeed is what the track costs a fix that reports no speed:
// the speed derived and the fix observed, as ingest does, at 15 s
// intervals.
func BenchmarkTrackSpeed(b *testing.B) {
	var tr Track
	d := Decision{Located: true, Land: true, Country: "FR"}
	f := skyfence.Fix{Time: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), Lat: 48.85, Lon: 2.35, SpeedKmh: skyfence.NoSpeed}
	sink := 0.0
	for b.Loop() {
		f.Time, f.Lat = f.Time.Add(15*time.Second), f.Lat+1e-5
		sink += tr.derivedSpeed(&f)
		tr.Observe(f, &d, "FR")
	}
	if sink < 0 {
		b.Fatal(sink)
	}
}

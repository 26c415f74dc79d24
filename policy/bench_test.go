package policy

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/world/worldtest"
)

// fleet makes n terminals of mixed plans and countries, each with a fix at
// a point of worldtest.Points (half uniform, half near borders).
func fleet(t testing.TB, s *Snapshot, n int) ([]*skyfence.Terminal, []skyfence.Fix) {
	shapes := make([]geoindex.Shape, len(s.Atlas().Countries()))
	for i, c := range s.Atlas().Countries() {
		shapes[i] = geoindex.Shape{Name: c.Code, Polygons: c.Polygons}
	}
	pts, err := worldtest.Points(shapes, n, 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	plans := []string{"residential", "roam", "maritime", "aviation", "sponsored"}
	countries := []string{"UA", "DE", "FR", "US", "PL"}
	ts := make([]*skyfence.Terminal, n)
	fs := make([]skyfence.Fix, n)
	for i := range ts {
		ts[i] = terminal("t", plans[rng.IntN(len(plans))], countries[rng.IntN(len(countries))],
			verifiedBy("UA-MOD", "UA", skyfence.VerificationClass(rng.IntN(3))))
		fs[i] = skyfence.Fix{Time: now.Add(time.Duration(i) * time.Millisecond), Lat: pts[i].Lat, Lon: pts[i].Lon, SpeedKmh: float64(rng.IntN(200))}
	}
	return ts, fs
}

func TestDecideDoesNotAllocate(t *testing.T) {
	s := scenario(t)
	ts, fs := fleet(t, s, 2000)
	// The cell paths: a claim in its own cell, in another (straddling
	// borders or not), and a cell not of the grid, in countries that
	// decide by the network's position and elsewhere.
	for i := range fs {
		switch i % 4 {
		case 1:
			fs[i].ServingCell = skyfence.CellOf(fs[i].Lat, fs[i].Lon)
		case 2:
			fs[i].ServingCell = skyfence.CellOf(fs[(i*7+3)%len(fs)].Lat, fs[(i*7+3)%len(fs)].Lon)
		case 3:
			fs[i].ServingCell = "beam-7"
		}
	}
	ua := terminal("t", "roam", "UA", verifiedBy("UA-MOD", "UA", skyfence.Military))
	for _, c := range []string{skyfence.CellOf(50.60, 36.59), "c560.866", skyfence.CellOf(50.45, 30.52), "c0555.728", ""} {
		ts = append(ts, ua)
		fs = append(fs, skyfence.Fix{Time: now, Lat: 50.45, Lon: 30.52, ServingCell: c})
	}
	tracks := make([]Track, len(ts))
	var network int
	allocs := testing.AllocsPerRun(5, func() {
		for i := range ts {
			if d := s.Decide(ts[i], &tracks[i], fs[i]); d.Reason == NetworkPosition {
				network++
			}
		}
	})
	if allocs != 0 {
		t.Errorf("Decide allocates %v times per %d decisions, want 0", allocs, len(ts))
	}
	if network == 0 {
		t.Error("no decision went by the network's position")
	}
}

// BenchmarkDecide measures decisions per second on one goroutine, spatial
// lookups included, over the scenario policy and a million-point fleet.
func BenchmarkDecide(b *testing.B) {
	s := scenario(b)
	ts, fs := fleet(b, s, 1_000_000)
	tracks := make([]Track, len(ts))
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

func TestDecideBatchMatchesDecide(t *testing.T) {
	s := scenario(t)
	ts, fs := fleet(t, s, 5000)
	ts[7] = nil
	fs[9].Lat = 200
	tracks := make([]*Track, len(ts))
	for i := range tracks {
		tracks[i] = &Track{}
	}
	out := make([]Decision, len(fs))
	s.DecideBatch(ts, tracks, fs, out)
	for i := range fs {
		if want := s.Decide(ts[i], tracks[i], fs[i]); !sameDecision(out[i], want) {
			t.Fatalf("fix %d: batch %+v, single %+v", i, out[i], want)
		}
	}
}

// BenchmarkDecideBatch is BenchmarkDecide through DecideBatch, in batches
// of 1,000 fixes as a gateway sends them.
func BenchmarkDecideBatch(b *testing.B) {
	s := scenario(b)
	ts, fs := fleet(b, s, 1_000_000)
	tracks := make([]*Track, len(ts))
	for i := range tracks {
		tracks[i] = &Track{}
	}
	out := make([]Decision, 1000)
	n := 0
	for b.Loop() {
		i := n % len(ts)
		s.DecideBatch(ts[i:i+1000], tracks[i:i+1000], fs[i:i+1000], out)
		n += 1000
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkDecideCell measures a decision in a country that decides by the
// network's position (UA, position: both): with the claim's own cell (one
// parse of the cell id more than a plain decision) and with a cell that
// contradicts the claim (the claim, then the places the cell touches).
func BenchmarkDecideCell(b *testing.B) {
	s := scenario(b)
	ua := terminal("t", "roam", "UA", verifiedBy("UA-MOD", "UA", skyfence.Military))
	for _, c := range []struct{ name, cell string }{
		{"none", ""},
		{"own", skyfence.CellOf(50.45, 30.52)},
		{"lviv", skyfence.CellOf(49.84, 24.03)},
		{"belgorod", skyfence.CellOf(50.60, 36.59)},
	} {
		b.Run(c.name, func(b *testing.B) {
			f := skyfence.Fix{Time: now, Lat: 50.45, Lon: 30.52, ServingCell: c.cell}
			var sink int
			for b.Loop() {
				d := s.Decide(ua, nil, f)
				sink += int(d.Reason)
			}
			_ = sink
		})
	}
}

package policy

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/world/worldtest"
)

var (
	bigFleetOnce sync.Once
	bigFleet     []ImpactInput
	bigFleetMB   float64
)

// syntheticFleet makes n terminals with fixed seeds: positions from
// worldtest.Points (half uniform on the sphere, half near borders), of
// which one in five is moved into a box over Ukraine, the Black Sea and the
// scenario's zones and one in fifty over Taiwan; mixed plans, registered
// countries, statuses and verifications by the Ukrainian defence ministry;
// one in a hundred without a position. Terminals lie in one slab and share
// their strings, as a server's table of them would.
func syntheticFleet(t testing.TB, s *Snapshot, n int) []ImpactInput {
	shapes := make([]geoindex.Shape, len(s.Atlas().Countries()))
	for i, c := range s.Atlas().Countries() {
		shapes[i] = geoindex.Shape{Name: c.Code, Polygons: c.Polygons}
	}
	pts, err := worldtest.Points(shapes, n, 11)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(12, 13))
	plans := []string{"residential", "residential", "roam", "roam", "maritime", "aviation", "sponsored", "sponsored"}
	countries := []string{"UA", "PL", "DE", "FR", "US", "GB", "TR", "TW", "BR", "NG"}
	since := date("2025-01-01T00:00:00Z")
	verifications := [][]skyfence.Verification{
		{{Region: "UA", Authority: "UA-MOD", Class: skyfence.Civil, VerifiedAt: since}},
		{{Region: "UA", Authority: "UA-MOD", Class: skyfence.Government, VerifiedAt: since}},
		{{Region: "UA", Authority: "UA-MOD", Class: skyfence.Military, VerifiedAt: since}},
		{{Region: "UA", Authority: "UA-MOD", Class: skyfence.Civil, VerifiedAt: since, ExpiresAt: since.AddDate(1, 0, 0)}},
	}
	// Ids "UT-0000000042" cut from one string.
	const idLen = 13
	ids := make([]byte, n*idLen)
	for i := range n {
		id := ids[i*idLen : (i+1)*idLen]
		copy(id, "UT-")
		for j, v := idLen-1, i; j >= 3; j, v = j-1, v/10 {
			id[j] = byte('0' + v%10)
		}
	}
	allIDs := string(ids)
	terminals := make([]skyfence.Terminal, n)
	in := make([]ImpactInput, n)
	at := now.Add(-time.Hour)
	for i := range in {
		p := pts[i]
		switch {
		case i%5 == 0:
			p.Lat, p.Lon = 44+rng.Float64()*8.5, 22+rng.Float64()*18.5
		case i%50 == 1:
			p.Lat, p.Lon = 21.8+rng.Float64()*3.6, 119.5+rng.Float64()*2.6
		}
		t := &terminals[i]
		t.ID = allIDs[i*idLen : (i+1)*idLen]
		t.Plan = plans[rng.IntN(len(plans))]
		t.Country = countries[rng.IntN(len(countries))]
		t.Status = skyfence.Active
		switch rng.IntN(100) {
		case 0, 1:
			t.Status = skyfence.Suspended
		case 2:
			t.Status = skyfence.Inactive
		}
		if i%5 == 0 && rng.IntN(10) < 4 {
			t.Verifications = verifications[rng.IntN(len(verifications))]
		}
		in[i] = ImpactInput{Terminal: t, Fix: skyfence.Fix{TerminalID: t.ID, Time: at, Lat: p.Lat, Lon: p.Lon, SpeedKmh: float64(rng.IntN(150))}}
		if rng.IntN(100) == 0 {
			in[i].Fix = skyfence.Fix{TerminalID: t.ID}
		}
	}
	return in
}

// BenchmarkImpact10M previews changes to the scenario policy over
// 10,000,000 terminals (made once, outside the timing):
//
//   - zones: the occupied zone removed, Taiwan licensed and a speed cap
//     everywhere, so each policy looks up its own zones;
//   - statuses: Taiwan licensed and Poland embargoed, the same zones, so
//     one lookup serves both;
//   - seas: the high seas embargoed, so that about half the fleet loses
//     service and every loss goes through the list of those to show.
//
// It reports ns/terminal, the seconds for the whole fleet and the fleet's
// heap in MB; B/op is what Impact allocates.
func BenchmarkImpact10M(b *testing.B) {
	const n = 10_000_000
	old := scenario(b)
	bigFleetOnce.Do(func() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		bigFleet = syntheticFleet(b, old, n)
		runtime.GC()
		runtime.ReadMemStats(&after)
		bigFleetMB = float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
	})
	changes := []struct {
		name string
		new  *Snapshot
	}{
		{"zones", variant(b, []edit{dropOccupiedRule, dropOccupiedRegion, licenceTaiwan, capEverywhere}, "occupied-ua")},
		{"statuses", variant(b, []edit{licenceTaiwan, embargoPoland})},
		{"seas", variant(b, []edit{{"  international:\n    status: available\n", "  international:\n    status: embargoed\n"}})},
	}
	for _, c := range changes {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var rep *ImpactReport
			for b.Loop() {
				rep = Impact(old, c.new, now, bigFleet, ImpactOptions{})
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(sec*1e9/n, "ns/terminal")
			b.ReportMetric(sec, "s/10M")
			b.ReportMetric(bigFleetMB, "fleet-MB")
			b.Logf("%s: %d decided, %d unlocated, %d lose, %d gain, %d another reason", c.name,
				rep.Decided, rep.Unlocated, rep.Losses, rep.Gains, rep.ReasonChanges)
		})
	}
}

package sim

import (
	"math"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

func generate(t *testing.T, n int, seed uint64) *Fleet {
	t.Helper()
	f, err := Generate(Config{Terminals: n, Seed: seed, Policy: scenarioPolicy(t)})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b, c := generate(t, 4000, 7), generate(t, 4000, 7), generate(t, 4000, 8)
	end := a.Start().Add(30 * time.Minute)
	fa, fb, fc := a.AppendFixes(nil, a.Start(), end), b.AppendFixes(nil, b.Start(), end), c.AppendFixes(nil, c.Start(), end)
	if !slices.Equal(fa, fb) {
		t.Fatalf("seed 7 twice: %d and %d fixes, not the same", len(fa), len(fb))
	}
	for i := range a.Len() {
		if a.Label(i) != b.Label(i) || !sameTerminal(a.Terminal(i), b.Terminal(i)) {
			t.Fatalf("terminal %d: labels %+v and %+v", i, a.Label(i), b.Label(i))
		}
	}
	same := 0
	for i := range min(len(fa), len(fc)) {
		if fa[i].Lat == fc[i].Lat && fa[i].Lon == fc[i].Lon {
			same++
		}
	}
	if same > len(fa)/20 {
		t.Errorf("seeds 7 and 8 share %d of %d positions, want few", same, len(fa))
	}
}

func sameTerminal(a, b *skyfence.Terminal) bool {
	return a.ID == b.ID && a.Plan == b.Plan && a.Country == b.Country && slices.Equal(a.Verifications, b.Verifications)
}

func TestLabels(t *testing.T) {
	f := generate(t, 20000, 1)
	dur := 30 * time.Minute
	var got [NumBehaviours]int
	for i := range f.Len() {
		l := f.Label(i)
		got[l.Behaviour]++
		if l.ID != f.ID(i) || l.Plan != l.Behaviour.Plan() || l.Country != f.Terminal(i).Country {
			t.Fatalf("terminal %d: label %+v disagrees with terminal %+v", i, l, f.Terminal(i))
		}
		if l.Bad != l.Behaviour.Bad() {
			t.Fatalf("%s: %s labelled bad=%v", l.ID, l.Behaviour, l.Bad)
		}
		if !l.Bad {
			if !l.BadFrom.IsZero() {
				t.Fatalf("%s: honest %s with bad_from %v", l.ID, l.Behaviour, l.BadFrom)
			}
			continue
		}
		if from := l.BadFrom.Sub(f.Start()); from < dur/10-time.Second || from > dur/2 {
			t.Fatalf("%s: %s turns bad %v after start, want within [%v, %v]", l.ID, l.Behaviour, from, dur/10, dur/2)
		}
	}
	if got != f.Counts() {
		t.Errorf("labels count %v, fleet says %v", got, f.Counts())
	}
	want, _ := DefaultMix.counts(20000)
	if got != want {
		t.Errorf("counts %v, want %v", got, want)
	}
	for b := range NumBehaviours {
		if got[b] == 0 && DefaultMix[b] > 0 {
			t.Errorf("no %s terminal in a fleet of 20,000", Behaviour(b))
		}
	}
}

func TestMixCounts(t *testing.T) {
	for _, tc := range []struct {
		mix  Mix
		n    int
		want [NumBehaviours]int
	}{
		{Mix{Residential: 1}, 7, [NumBehaviours]int{Residential: 7}},
		{Mix{Residential: 1, Ship: 1}, 3, [NumBehaviours]int{Residential: 2, Ship: 1}},
		{Mix{Residential: 2, Ship: 1, Drone: 1}, 10, [NumBehaviours]int{Residential: 5, Ship: 3, Drone: 2}},
	} {
		got, err := tc.mix.counts(tc.n)
		if err != nil || got != tc.want {
			t.Errorf("%v.counts(%d) = %v, %v; want %v", tc.mix, tc.n, got, err, tc.want)
		}
	}
	if _, err := (Mix{}).counts(3); err == nil {
		t.Error("an empty mix: no error")
	}
}

func TestFixesComeInTimeOrderOncePerInterval(t *testing.T) {
	f := generate(t, 3001, 3)
	from := f.Start().Add(10 * time.Minute)
	fixes := f.AppendFixes(nil, from, from.Add(f.Interval()))
	seen := make(map[string]bool)
	for k, fx := range fixes {
		if fx.Time.Before(from) || !fx.Time.Before(from.Add(f.Interval())) {
			t.Fatalf("fix %d at %v, outside [%v, %v)", k, fx.Time, from, from.Add(f.Interval()))
		}
		if k > 0 && fx.Time.Before(fixes[k-1].Time) {
			t.Fatalf("fix %d at %v before fix %d at %v", k, fx.Time, k-1, fixes[k-1].Time)
		}
		if seen[fx.TerminalID] {
			t.Fatalf("%s reports twice in one interval", fx.TerminalID)
		}
		seen[fx.TerminalID] = true
		i, ok := f.Index(fx.TerminalID)
		if want, _ := f.FixAt(i, fx.Time); !ok || want != fx {
			t.Fatalf("fix %+v, FixAt says %+v", fx, want)
		}
	}
	for i := range f.Len() {
		if _, on := f.FixAt(i, from.Add(f.Interval()/2)); on && !seen[f.ID(i)] && f.Behaviour(i) != Drone {
			t.Errorf("%s (%s) is on but sent no fix in an interval", f.ID(i), f.Behaviour(i))
		}
	}
}

// crossTrackKm is the distance of p from the great circle through a and b.
func crossTrackKm(p, a, b [2]float64) float64 {
	va, vb, vp := toVec(a[0], a[1]), toVec(b[0], b[1]), toVec(p[0], p[1])
	n := vec{va[1]*vb[2] - va[2]*vb[1], va[2]*vb[0] - va[0]*vb[2], va[0]*vb[1] - va[1]*vb[0]}
	l := math.Sqrt(n[0]*n[0] + n[1]*n[1] + n[2]*n[2])
	if l == 0 {
		return 0
	}
	return math.Abs(math.Asin((n[0]*vp[0]+n[1]*vp[1]+n[2]*vp[2])/l)) * earthKm
}

// TestBehavioursStayInTheirEnvelopes follows every terminal of a fleet for
// an hour, fix by fix, against its profile.
func TestBehavioursStayInTheirEnvelopes(t *testing.T) {
	f := generate(t, 20000, 11)
	snap := scenarioPolicy(t)
	step := f.Interval()
	type span struct{ lo, hi float64 }
	speeds := map[Behaviour]span{Roamer: {60, 130}, Vehicle: {30, 130}, Ship: {20, 40}, Airliner: {850, 950}}
	for i := range f.Len() {
		u := &f.units[i]
		b, l, term := u.kind, f.Label(i), f.Terminal(i)
		first, _ := f.FixAt(i, f.Start())
		var prev skyfence.Fix
		var jumps int
		for at := f.Start(); at.Before(f.Start().Add(time.Hour)); at = at.Add(step) {
			fx, on := f.FixAt(i, at)
			bad := l.Bad && !at.Before(l.BadFrom)
			if !on {
				if b != Drone && b != Smuggled && b != SpoofClone {
					t.Fatalf("%s (%s) off at %v", l.ID, b, at)
				}
				prev = skyfence.Fix{}
				continue
			}
			moved := !prev.Time.IsZero() && policy.HaversineKm(prev.Lat, prev.Lon, fx.Lat, fx.Lon) > 0
			switch b {
			case Residential, Sponsored:
				if fx.Lat != first.Lat || fx.Lon != first.Lon || fx.SpeedKmh != 0 {
					t.Fatalf("%s (%s) moved: %+v then %+v", l.ID, b, first, fx)
				}
				if d := snap.Decide(term, nil, fx); !d.Allow {
					t.Fatalf("%s (%s) placed where it has no service: %s by %s", l.ID, b, d.Reason, d.Rule)
				}
			case Roamer, Vehicle, Ship, Airliner:
				if s := speeds[b]; fx.SpeedKmh != 0 && (fx.SpeedKmh < s.lo || fx.SpeedKmh > s.hi) {
					t.Fatalf("%s (%s) at %.0f km/h, want %v", l.ID, b, fx.SpeedKmh, s)
				}
				if moved && prev.SpeedKmh == 0 && fx.SpeedKmh == 0 {
					t.Fatalf("%s (%s) moved while standing", l.ID, b)
				}
				if moved {
					if v := policy.HaversineKm(prev.Lat, prev.Lon, fx.Lat, fx.Lon) / step.Hours(); v > max(prev.SpeedKmh, fx.SpeedKmh)*1.001+0.1 {
						t.Fatalf("%s (%s) covered %.1f km/h at a reported %.1f", l.ID, b, v, fx.SpeedKmh)
					}
				}
				if b == Airliner {
					if fx.AltM < 0 || fx.AltM > 12000 || fx.SpeedKmh == 0 && fx.AltM != 0 {
						t.Fatalf("%s (airliner) at %.0f m and %.0f km/h", l.ID, fx.AltM, fx.SpeedKmh)
					}
					alat, alon := u.a.f64()
					blat, blon := u.b.f64()
					if d := crossTrackKm([2]float64{fx.Lat, fx.Lon}, [2]float64{alat, alon}, [2]float64{blat, blon}); d > 0.01 {
						t.Fatalf("%s (airliner) %.3f km off its great circle", l.ID, d)
					}
				}
			case Drone:
				alat, alon := u.a.f64()
				switch d := policy.HaversineKm(alat, alon, fx.Lat, fx.Lon); {
				case !bad && (d != 0 || fx.SpeedKmh != 0):
					t.Fatalf("%s (drone) not at its base before turning bad: %.1f km, %.0f km/h", l.ID, d, fx.SpeedKmh)
				case !bad && !snap.Decide(term, nil, fx).Allow:
					t.Fatalf("%s (drone) has no service at its base: %+v", l.ID, snap.Decide(term, nil, fx))
				case bad && (fx.SpeedKmh < 80-1e-9 || fx.SpeedKmh > 250+1e-9 || fx.AltM < 50 || fx.AltM >= 300 || d > 15):
					t.Fatalf("%s (drone) flying %.0f km/h at %.0f m, %.1f km from its base", l.ID, fx.SpeedKmh, fx.AltM, d)
				}
			case Smuggled:
				if bad && frontKm(f, fx.Lat, fx.Lon) > 43 {
					t.Fatalf("%s (smuggled) %.0f km from the front", l.ID, frontKm(f, fx.Lat, fx.Lon))
				}
				if !bad && frontKm(f, fx.Lat, fx.Lon) < 300 {
					t.Fatalf("%s (smuggled) near the front before it is smuggled", l.ID)
				}
			case SpoofJump:
				if fx.SpeedKmh != 0 {
					t.Fatalf("%s (spoof-jump) reports %.0f km/h", l.ID, fx.SpeedKmh)
				}
				if alat, alon := u.a.f64(); bad && jumps == 0 && fx.Lat == alat && fx.Lon == alon {
					t.Fatalf("%s (spoof-jump) did not jump at its first fix after its start", l.ID)
				}
				if moved && policy.HaversineKm(prev.Lat, prev.Lon, fx.Lat, fx.Lon)/step.Hours() > 2000 {
					jumps++
				}
			case SpoofClone:
				if d := snap.Decide(term, nil, fx); !bad && !d.Allow {
					t.Fatalf("%s (spoof-clone) has no service at home before it turns bad: %s by %s", l.ID, d.Reason, d.Rule)
				}
				if bad && (float32(fx.Lat) != f.clones[u.lane].Lat || float32(fx.Lon) != f.clones[u.lane].Lon) {
					t.Fatalf("%s (spoof-clone) not at its group's position", l.ID)
				}
				if h := f.Home(i); bad && (h[0] != fx.Lat || h[1] != fx.Lon) {
					t.Fatalf("%s (spoof-clone) home %v is not the position it clones", l.ID, h)
				}
			}
			prev = fx
		}
		if b == SpoofJump && jumps == 0 {
			t.Errorf("%s (spoof-jump) never jumped in an hour", l.ID)
		}
	}
}

// frontKm is the distance from a position to the nearest point of the
// front densified every 5 km or less: at most 2.5 km more than the
// distance to the front.
func frontKm(f *Fleet, lat, lon float64) float64 {
	best := math.Inf(1)
	for k := 1; k < len(f.front); k++ {
		alat, alon := f.front[k-1].f64()
		blat, blon := f.front[k].f64()
		n := int(distKm(alat, alon, blat, blon)/5) + 1
		for j := 0; j <= n; j++ {
			plat, plon := along(alat, alon, blat, blon, float64(j)/float64(n))
			best = math.Min(best, distKm(lat, lon, plat, plon))
		}
	}
	return best
}

// TestUnitIsSmall keeps a terminal's numbers small enough for ten million
// of them to fit in well under a gigabyte.
func TestUnitIsSmall(t *testing.T) {
	if s := unsafe.Sizeof(unit{}); s > 60 {
		t.Errorf("a unit is %d bytes, want at most 60", s)
	}
}

package policy

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

// jittered is a receiver's fix of a terminal truly at (lat, lon): north
// and east each off by up to amp metres, uniformly, so the error is up to
// amp*sqrt(2) (42.4 m for 30 m of jitter).
func jittered(rng *rand.Rand, at time.Time, lat, lon, amp float64) skyfence.Fix {
	dn, de := (rng.Float64()*2-1)*amp, (rng.Float64()*2-1)*amp
	return skyfence.Fix{Time: at, Lat: lat + dn/metresPerDeg, Lon: lon + de/(metresPerDeg*math.Cos(lat*math.Pi/180)), SpeedKmh: skyfence.NoSpeed}
}

// moved is (lat, lon) moved north-east by m metres.
func moved(lat, lon, m float64) (float64, float64) {
	d := m / math.Sqrt2
	return lat + d/metresPerDeg, lon + d/(metresPerDeg*math.Cos(lat*math.Pi/180))
}

// observed records f in tr as a located fix at home.
func observed(tr *Track, f skyfence.Fix) {
	tr.Observe(f, &Decision{Located: true, Land: true, Country: "FR"}, "FR")
}

// A standing terminal's jitter never reads as speed: 0 km/h on every fix,
// whatever the interval between fixes, for jitter within positionErrorM.
func TestDerivedSpeedStandingJitterIsNoSpeed(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 30))
	for _, every := range []time.Duration{time.Second, 5 * time.Second, 15 * time.Second, time.Minute, 7 * time.Minute} {
		var tr Track
		t0 := date("2026-06-01T00:00:00Z")
		worst := 0.0
		for i := 0; i < 5000; i++ {
			f := jittered(rng, t0.Add(time.Duration(i)*every), 48.85, 2.35, 30)
			worst = max(worst, tr.derivedSpeed(&f))
			observed(&tr, f)
		}
		if worst != 0 {
			t.Errorf("fixes every %v with 30 m of jitter: up to %.2f km/h derived, want 0", every, worst)
		}
	}
}

// The speed derived is never above the terminal's true top speed while its
// fixes are within positionErrorM of where it is: a random walk whose
// speed changes at random, up to 120 km/h, sampled at random intervals.
func TestDerivedSpeedNeverAboveTheTruth(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for run := 0; run < 20; run++ {
		var tr Track
		at := date("2026-06-01T00:00:00Z")
		lat, lon, top := 50.0, 30.0, 0.0
		heading, speed := rng.Float64()*2*math.Pi, 0.0 // m/s
		for i := 0; i < 2000; i++ {
			dt := time.Duration(1+rng.IntN(90)) * time.Second
			if rng.IntN(10) == 0 {
				speed, heading = rng.Float64()*120/3.6, rng.Float64()*2*math.Pi
			}
			top = max(top, speed*3.6)
			m := speed * dt.Seconds()
			lat += m * math.Cos(heading) / metresPerDeg
			lon += m * math.Sin(heading) / (metresPerDeg * math.Cos(lat*math.Pi/180))
			at = at.Add(dt)
			f := jittered(rng, at, lat, lon, 30)
			if v := tr.derivedSpeed(&f); v > top+1e-6 {
				t.Fatalf("run %d fix %d: %.3f km/h derived, true top speed %.3f km/h", run, i, v, top)
			}
			observed(&tr, f)
		}
	}
}

// A real move is caught: after standing for a while, a terminal moving in
// a straight line reads above the cap on every fix from the time the
// guarantee gives (three windows and two intervals), with 30 m of jitter.
func TestDerivedSpeedCatchesARealMove(t *testing.T) {
	tests := []struct {
		name     string
		kmh, cap float64
		every    time.Duration
		caughtBy time.Duration // what derivedSpeed's doc guarantees
	}{
		{"12 km/h on a 10 km/h residential plan, fixes every 15 s", 12, 10, 15 * time.Second, 3*farAnchorSec*time.Second + 30*time.Second},
		{"12 km/h, fixes every 2 minutes", 12, 10, 2 * time.Minute, 3*farAnchorSec*time.Second + 4*time.Minute},
		{"a drone at 90 km/h on a 75 km/h cap, fixes every 15 s", 90, 75, 15 * time.Second, 3*nearAnchorSec*time.Second + 30*time.Second},
		{"a drone at 90 km/h, fixes every second", 90, 75, time.Second, 3*nearAnchorSec*time.Second + 2*time.Second},
		{"a car at 130 km/h on a 75 km/h cap, fixes every 15 s", 130, 75, 15 * time.Second, 15 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(12, uint64(tc.kmh)))
			var tr Track
			t0 := date("2026-06-01T00:00:00Z")
			lat0, lon0 := 50.45, 30.52
			for at := t0.Add(-30 * time.Minute); at.Before(t0); at = at.Add(tc.every) {
				observed(&tr, jittered(rng, at, lat0, lon0, 30))
			}
			var lastMiss time.Duration = -1
			for el := time.Duration(0); el <= 40*time.Minute; el += tc.every {
				lat, lon := moved(lat0, lon0, tc.kmh/3.6*el.Seconds())
				f := jittered(rng, t0.Add(el), lat, lon, 30)
				v := tr.derivedSpeed(&f)
				if v > tc.kmh+1e-6 {
					t.Fatalf("at %v: %.2f km/h derived, above the true %v", el, v, tc.kmh)
				}
				if v <= tc.cap {
					lastMiss = el
				}
				observed(&tr, f)
			}
			t.Logf("above the cap on every fix from %v after it started", lastMiss+tc.every)
			if lastMiss >= tc.caughtBy {
				t.Errorf("read at or under the %v km/h cap as late as %v after it started, want above it on every fix from %v", tc.cap, lastMiss, tc.caughtBy)
			}
		})
	}
}

// The pair of the previous fix and this one, before any anchor: the
// displacement less twice the position error.
func TestDerivedSpeedFromThePreviousFix(t *testing.T) {
	t0 := date("2026-06-01T12:00:00Z")
	tr := Track{LastUnixNano: t0.UnixNano(), LastLat: 50, LastLon: 30}
	tests := []struct {
		name     string
		after    time.Duration
		dLatM    float64
		min, max float64
	}{
		{"90 m (twice the error) is standing still", 10 * time.Second, 90, 0, 0},
		{"fixes closer than a second derive nothing", 500 * time.Millisecond, 1000, 0, 0},
		{"2 km in a minute: 120 km/h less 5.4", time.Minute, 2000, 114.5, 114.7},
		{"575 m in 15 s: 138 km/h less 21.6", 15 * time.Second, 575, 116.3, 116.5},
	}
	for _, tc := range tests {
		f := skyfence.Fix{Time: t0.Add(tc.after), Lat: 50 + tc.dLatM/metresPerDeg, Lon: 30}
		if v := tr.derivedSpeed(&f); v < tc.min || v > tc.max {
			t.Errorf("%s: %.2f km/h, want %v..%v", tc.name, v, tc.min, tc.max)
		}
	}
}

// A terminal moved while switched off reads the gap's average speed on
// its first fix, as from the previous fix, and nothing after: the anchors
// start again from it rather than spread the gap's motion over the next
// minutes.
func TestDerivedSpeedAfterAGap(t *testing.T) {
	var tr Track
	t0 := date("2026-06-01T12:00:00Z")
	for i := 0; i < 60; i++ {
		observed(&tr, skyfence.Fix{Time: t0.Add(time.Duration(i) * 15 * time.Second), Lat: 48.85, Lon: 2.35})
	}
	back := t0.Add(24 * time.Hour)
	first := skyfence.Fix{Time: back, Lat: 45.76, Lon: 4.83} // Lyon, 392 km away
	if v := tr.derivedSpeed(&first); v < 15 || v > 17 {
		t.Errorf("first fix after a day: %.2f km/h, want the day's average, about 16", v)
	}
	observed(&tr, first)
	for i := 1; i < 100; i++ {
		f := skyfence.Fix{Time: back.Add(time.Duration(i) * 15 * time.Second), Lat: 45.76, Lon: 4.83}
		if v := tr.derivedSpeed(&f); v != 0 {
			t.Fatalf("fix %d after the gap: %.2f km/h, want 0", i, v)
		}
		observed(&tr, f)
	}
}

// Anchors cross the antimeridian as any other line of longitude.
func TestDerivedSpeedAcrossTheAntimeridian(t *testing.T) {
	var tr Track
	t0 := date("2026-06-01T12:00:00Z")
	lon := 179.99
	for i := 0; i < 200; i++ {
		f := skyfence.Fix{Time: t0.Add(time.Duration(i) * 15 * time.Second), Lat: 0, Lon: lon, SpeedKmh: skyfence.NoSpeed}
		v := tr.derivedSpeed(&f)
		if i > 2*nearAnchorSec/15+1 && (v < 40 || v > 50.1) {
			t.Fatalf("fix %d at lon %.4f: %.2f km/h, want about 50", i, lon, v)
		}
		observed(&tr, f)
		lon += 50 / 3.6 * 15 / metresPerDeg // 50 km/h east
		if lon > 180 {
			lon -= 360
		}
	}
}

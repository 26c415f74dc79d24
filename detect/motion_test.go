package detect

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

func TestImpossibleTravel(t *testing.T) {
	res := terminal("T-RES", "residential", "PL")
	avi := terminal("T-AVI", "aviation", "PL")
	roam := terminal("T-ROAM", "roam", "PL")
	// 500 km east of Warsaw.
	farLat, farLon := dest(warsawLat, warsawLon, 90, 500)
	east3Lat, east3Lon := dest(warsawLat, warsawLon, 90, 3)
	cases := []struct {
		name  string
		track []Observation
		want  int // distinct impossible_travel alerts
		value float64
	}{
		{"residential jumps 500 km in a minute", []Observation{
			obs(res, t0, warsawLat, warsawLon),
			obs(res, t0.Add(time.Minute), farLat, farLon),
		}, 1, 500 * 60},
		{"residential moved 500 km in 4 hours by car", []Observation{
			obs(res, t0, warsawLat, warsawLon),
			obs(res, t0.Add(4*time.Hour), farLat, farLon),
		}, 0, 0},
		{"airliner at 900 km/h at 11 km, aviation plan", path(avi, t0, warsawLat, warsawLon, time.Minute, 900, 11000, repeat(90, 30)), 0, 0},
		{"residential terminal on an airliner", path(res, t0, warsawLat, warsawLon, time.Minute, 900, 11000, repeat(90, 3)), 1, 900},
		{"aviation terminal 500 km in a minute", []Observation{
			obs(avi, t0, warsawLat, warsawLon).alt(11000),
			obs(avi, t0.Add(time.Minute), farLat, farLon).alt(11000),
		}, 1, 500 * 60},
		{"roam on a train at 300 km/h", path(roam, t0, warsawLat, warsawLon, 30*time.Second, 300, 100, repeat(90, 20)), 0, 0},
		// 1.5 km in a second is 5,400 km/h, but shorter than MinDistanceKm:
		// a glitch, not travel.
		{"1.5 km glitch in a second", []Observation{
			obs(res, t0, warsawLat, warsawLon),
			obs(res, t0.Add(time.Second), warsawLat, warsawLon+1.5/68.2),
		}, 0, 0},
		// 3 km in 100 ms is judged as 3 km in MinGap (10 s): 1,080 km/h,
		// over the roam plan's 350.
		{"3 km in 100 ms, roam", []Observation{
			obs(roam, t0, warsawLat, warsawLon),
			obs(roam, t0.Add(100*time.Millisecond), east3Lat, east3Lon),
		}, 1, 1080},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := of(feed(newEngine(t, nil), c.track), ImpossibleTravel)
			if n := len(distinct(got)); n != c.want {
				t.Fatalf("got %d impossible_travel alerts, want %d", n, c.want)
			}
			if c.want == 0 {
				return
			}
			a := got[len(got)-1]
			if math.Abs(a.Value-c.value)/c.value > 0.01 {
				t.Errorf("value %.1f km/h, want %.1f", a.Value, c.value)
			}
			if a.Score < 0.5 || a.Score > 1 {
				t.Errorf("score %v, want in [0.5, 1]", a.Score)
			}
			last := a.Evidence[len(a.Evidence)-1]
			if !last.Fired || !last.Time.Equal(c.track[len(c.track)-1].Fix.Time) {
				t.Errorf("last evidence %+v, want the firing fix", last)
			}
		})
	}
}

func TestJitterIsNotMotion(t *testing.T) {
	// A residential dish standing still, reporting every second with GPS
	// noise of about 30 m, for an hour: no alert of any kind.
	rng := rand.New(rand.NewPCG(1, 2))
	term := terminal("T-JIT", "residential", "PL")
	var track []Observation
	for i := range 3600 {
		h, km := rng.Float64()*360, 0.03*math.Abs(rng.NormFloat64())
		km = min(km, 0.045) // 30 m typical, 45 m at most
		lat, lon := dest(warsawLat, warsawLon, h, km)
		track = append(track, obs(term, t0.Add(time.Duration(i)*time.Second), lat, lon))
	}
	e := newEngine(t, nil)
	if got := feed(e, track); len(got) != 0 {
		t.Fatalf("jitter raised %d alerts: %v", len(got), detectors(got))
	}
	if st := e.states[e.index["T-JIT"]]; st.n != 1 {
		t.Errorf("jitter made %d samples, want 1 (no moves)", st.n)
	}
}

func TestPositionJump(t *testing.T) {
	res := terminal("T-RES", "residential", "PL")
	farLat, farLon := dest(warsawLat, warsawLon, 45, 500)
	nearLat, nearLon := dest(warsawLat, warsawLon, 0, 0.5)
	t.Run("teleport and back", func(t *testing.T) {
		got := feed(newEngine(t, nil), []Observation{
			obs(res, t0, warsawLat, warsawLon),
			obs(res, t0.Add(30*time.Second), farLat, farLon),
			obs(res, t0.Add(60*time.Second), nearLat, nearLon),
		})
		jumps := of(got, PositionJump)
		if len(jumps) != 1 {
			t.Fatalf("got %d position_jump alerts, want 1 (all: %v)", len(jumps), detectors(got))
		}
		if v := jumps[0].Value; math.Abs(v-500) > 1 {
			t.Errorf("jump of %.1f km, want 500", v)
		}
		// Both legs are impossible travel too: one alert, fired twice.
		tr := of(got, ImpossibleTravel)
		if len(tr) != 1 || tr[0].Count != 1 {
			t.Errorf("impossible_travel emitted %d times (first count %d), want once: the second firing is within UpdateEvery", len(tr), tr[0].Count)
		}
	})
	t.Run("moved and stayed", func(t *testing.T) {
		stayLat, stayLon := dest(farLat, farLon, 0, 0.5)
		got := feed(newEngine(t, nil), []Observation{
			obs(res, t0, warsawLat, warsawLon),
			obs(res, t0.Add(30*time.Second), farLat, farLon),
			obs(res, t0.Add(60*time.Second), stayLat, stayLon),
		})
		if n := len(of(got, PositionJump)); n != 0 {
			t.Errorf("got %d position_jump alerts, want 0", n)
		}
	})
	t.Run("a car's errand and back", func(t *testing.T) {
		outLat, outLon := dest(warsawLat, warsawLon, 90, 15)
		got := feed(newEngine(t, nil), []Observation{
			obs(res, t0, warsawLat, warsawLon),
			obs(res, t0.Add(15*time.Minute), outLat, outLon),
			obs(res, t0.Add(30*time.Minute), warsawLat, warsawLon),
		})
		if len(got) != 0 {
			t.Errorf("got %v, want nothing", detectors(got))
		}
	})
}

func TestDroneMotion(t *testing.T) {
	roam := terminal("T-ROAM", "roam", "UA")
	avi := terminal("T-AVI", "aviation", "UA")
	// A drone zigzags: headings alternate 30 and 150 degrees (turns of
	// 120 degrees) every 5 s at 120 km/h, 100 m up.
	zigzag := make([]float64, 12)
	for i := range zigzag {
		zigzag[i] = 30 + 120*float64(i%2)
	}
	// A car on a motorway: 130 km/h, gently curving 2 degrees per fix.
	curve := make([]float64, 60)
	for i := range curve {
		curve[i] = 80 + 2*float64(i)
	}
	// A car that slows down to turn at a junction, then drives on.
	junction := append(append(repeat(0, 10), 45, 90, 90), repeat(90, 10)...)
	junctionSpeeds := func(track []Observation) []Observation {
		// Fixes 10-12 are the turn, at 15 km/h.
		lat, lon := track[0].Fix.Lat, track[0].Fix.Lon
		for i := 1; i < len(track); i++ {
			kmh := 110.0
			if i >= 10 && i <= 12 {
				kmh = 15
			}
			lat, lon = dest(lat, lon, junction[i-1], kmh*(5*time.Second).Hours())
			track[i].Fix.Lat, track[i].Fix.Lon = lat, lon
		}
		return track
	}
	cases := []struct {
		name  string
		track []Observation
		want  bool
	}{
		{"drone zigzag at 120 km/h, 100 m", path(roam, t0, zaporizhLat, zaporizhLon, 5*time.Second, 120, 100, zigzag), true},
		{"car at 130 km/h on a motorway", path(roam, t0, kyivLat, kyivLon, 5*time.Second, 130, 150, curve), false},
		{"car turning at a junction", junctionSpeeds(path(roam, t0, kyivLat, kyivLon, 5*time.Second, 110, 150, junction)), false},
		{"the same zigzag on an aviation plan", path(avi, t0, zaporizhLat, zaporizhLon, 5*time.Second, 120, 100, zigzag), false},
		{"the same zigzag 2 km up", path(roam, t0, zaporizhLat, zaporizhLon, 5*time.Second, 120, 2000, zigzag), false},
		{"the same zigzag at 40 km/h", path(roam, t0, zaporizhLat, zaporizhLon, 5*time.Second, 40, 100, zigzag), false},
		{"the same zigzag seen once a minute", path(roam, t0, zaporizhLat, zaporizhLon, time.Minute, 120, 100, zigzag), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := feed(newEngine(t, nil), c.track)
			drones := of(got, DroneMotion)
			if (len(drones) > 0) != c.want {
				t.Fatalf("drone_motion alerts: %d, want any: %v (all: %v)", len(drones), c.want, detectors(got))
			}
			if !c.want {
				return
			}
			a := drones[0]
			// The first window of 6 fixes holds 4 turns of 120 degrees.
			if a.Value != 4 || a.Score < 0.8 || a.Severity != High {
				t.Errorf("value %v score %v severity %v, want 4 turns, score >= 0.8, high", a.Value, a.Score, a.Severity)
			}
			if len(a.Evidence) != 6 {
				t.Errorf("%d pieces of evidence, want the 6 fixes of the window", len(a.Evidence))
			}
			if n := len(of(got, ImpossibleTravel)); n != 0 {
				t.Errorf("a drone at 120 km/h raised %d impossible_travel alerts", n)
			}
		})
	}
}

// circle is a track of term flying round a circle of radiusKm centred
// north of (lat, lon), from (lat, lon), at kmh and altM, one fix per
// step.
func circle(term *skyfence.Terminal, start time.Time, lat, lon, radiusKm, kmh, altM float64, step time.Duration, n int) []Observation {
	var out []Observation
	for i := range n {
		h := step.Hours() * float64(i)
		angle := kmh * h / radiusKm // radians
		clat, clon := dest(lat, lon, 0, radiusKm)
		plat, plon := dest(clat, clon, 180+angle*180/math.Pi, radiusKm)
		out = append(out, obs(term, start.Add(time.Duration(i)*step), plat, plon).alt(altM))
	}
	return out
}

func TestDroneLoiter(t *testing.T) {
	roam := terminal("T-ROAM", "roam", "UA")
	avi := terminal("T-AVI", "aviation", "UA")
	// A drone circling 2 km round at 150 km/h, seen every 15 s: it turns
	// 18 degrees a fix, never sharply, but flies 16 km without leaving a
	// 4 km circle.
	cases := []struct {
		name  string
		track []Observation
		want  bool
	}{
		{"drone circling at 150 km/h, 150 m, every 15 s", circle(roam, t0, zaporizhLat, zaporizhLon, 2, 150, 150, 15*time.Second, 40), true},
		{"car on a motorway at 130 km/h for 10 minutes", path(roam, t0, kyivLat, kyivLon, 15*time.Second, 130, 150, repeat(80, 40)), false},
		{"car on a winding road, 100 km/h", path(roam, t0, kyivLat, kyivLon, 15*time.Second, 100, 150, winding(40)), false},
		{"the same circling on an aviation plan", circle(avi, t0, zaporizhLat, zaporizhLon, 2, 150, 150, 15*time.Second, 40), false},
		{"the same circling 2 km up", circle(roam, t0, zaporizhLat, zaporizhLon, 2, 150, 2000, 15*time.Second, 40), false},
		{"a taxi circling the city at 40 km/h", circle(roam, t0, kyivLat, kyivLon, 1, 40, 150, 15*time.Second, 80), false},
		{"the drone seen every 2 minutes", circle(roam, t0, zaporizhLat, zaporizhLon, 2, 150, 150, 2*time.Minute, 10), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := feed(newEngine(t, nil), c.track)
			drones := of(got, DroneMotion)
			if (len(drones) > 0) != c.want {
				t.Fatalf("drone_motion alerts: %d, want any: %v (all: %v)", len(drones), c.want, detectors(got))
			}
			if !c.want {
				return
			}
			a := drones[0]
			if a.Value < 4 || a.Limit != 4 || !strings.HasPrefix(a.Summary, "loitered at drone speed") {
				t.Errorf("value %v limit %v summary %q, want a loiter of at least 4 km per km", a.Value, a.Limit, a.Summary)
			}
			// The farthest point of the circle is 4 km from the start: 16
			// km at 150 km/h is 6.4 minutes.
			if d := a.FirstSeen.Sub(t0); d < 6*time.Minute || d > 7*time.Minute {
				t.Errorf("first seen %v after take-off, want 6 to 7 minutes", d)
			}
		})
	}
}

// winding is n headings of a road that swings 30 degrees either side of
// east every few fixes.
func winding(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = 90 + 30*math.Sin(float64(i)/3)
	}
	return out
}

func TestShuttleIsNotALoiter(t *testing.T) {
	van := terminal("T-VAN", "roam", "UA")
	// shuttle drives legs of fixes 15 s apart at 130 km/h, east and west
	// by turns, standing still for stop fixes after each.
	shuttle := func(legs, fixes, stop int) []Observation {
		var track []Observation
		at := t0
		lat, lon := kyivLat, kyivLon
		for leg := range legs {
			h := 90.0 + 180*float64(leg%2)
			for range fixes {
				at = at.Add(15 * time.Second)
				lat, lon = dest(lat, lon, h, 130*(15*time.Second).Hours())
				track = append(track, obs(van, at, lat, lon))
			}
			for range stop {
				at = at.Add(15 * time.Second)
				track = append(track, obs(van, at, lat, lon))
			}
		}
		return track
	}
	cases := []struct {
		name  string
		track []Observation
	}{
		// 40 km within 8 km of its start, but it stops at each end.
		{"between depots 8 km apart, stopping a minute", shuttle(5, 16, 4)},
		// 120 km within 30 km of its start, never stopping.
		{"back and forth over 30 km without a stop", shuttle(4, 56, 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := of(feed(newEngine(t, nil), c.track), DroneMotion); len(got) != 0 {
				t.Errorf("%d drone_motion alerts, want none", len(got))
			}
		})
	}
}

package detect

import (
	"testing"
	"time"
)

// takeoffTrack rests at the ground for a minute, then climbs climb metres
// in its first 15 s and moves at kmh on heading, turning by zig degrees
// either side every other fix, for four minutes at 15 s fixes.
func takeoffTrack(id, plan string, climb, kmh, zig float64) []Observation {
	term := terminal(id, plan, "UA")
	var out []Observation
	lat, lon := zaporizhLat, zaporizhLon
	for k := range 4 {
		out = append(out, obs(term, t0.Add(time.Duration(k)*15*time.Second), lat, lon).alt(90))
	}
	at := t0.Add(45 * time.Second)
	for k := range 16 {
		at = at.Add(15 * time.Second)
		h := 90.0
		if k%4 < 2 {
			h += zig
		} else {
			h -= zig
		}
		lat, lon = dest(lat, lon, h, kmh*(15*time.Second).Hours())
		out = append(out, obs(term, at, lat, lon).alt(90+climb))
	}
	return out
}

func TestTakeoff(t *testing.T) {
	for _, tc := range []struct {
		name            string
		plan            string
		climb, kmh, zig float64
		want            bool
	}{
		{"low drone straight at 65 km/h", "roam", 80, 65, 0, true},
		{"low drone zig-zag at 65 km/h", "sponsored", 60, 65, 30, true},
		{"fast drone", "roam", 50, 150, 0, true},
		{"car leaving a car park, 20 m up", "roam", 20, 60, 0, false},
		{"the low drone on an aviation plan", "aviation", 80, 65, 0, false},
		{"a climb at walking pace", "roam", 80, 5, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, nil)
			got := of(feed(e, takeoffTrack("t", tc.plan, tc.climb, tc.kmh, tc.zig)), DroneMotion)
			if (len(got) > 0) != tc.want {
				t.Fatalf("drone_motion alerts %v, want %v", detectors(got), tc.want)
			}
			if tc.want && got[0].FirstSeen.Sub(t0.Add(45*time.Second)) > 30*time.Second {
				t.Errorf("alerted at %v after take-off, want within 30 s", got[0].FirstSeen.Sub(t0.Add(45*time.Second)))
			}
		})
	}
}

// TestNoTakeoffUphill: a car climbing a 4 % road at 130 km/h from a stop
// (ground rising 1.4 m/s) is no take-off.
func TestNoTakeoffUphill(t *testing.T) {
	term := terminal("car", "roam", "UA")
	var in []Observation
	lat, lon := zaporizhLat, zaporizhLon
	for k := range 4 {
		in = append(in, obs(term, t0.Add(time.Duration(k)*15*time.Second), lat, lon).alt(90))
	}
	alt := 90.0
	for k := range 12 {
		lat, lon = dest(lat, lon, 0, 130*(15*time.Second).Hours())
		alt += 0.04 * 130 / 3.6 * 15
		in = append(in, obs(term, t0.Add(time.Duration(4+k)*15*time.Second), lat, lon).alt(alt))
	}
	if got := of(feed(newEngine(t, nil), in), DroneMotion); len(got) > 0 {
		t.Fatalf("drone_motion: %v", detectors(got))
	}
}

// TestNoTakeoffAfterSpoofing: a car whose receiver sat at a spoofed
// position (altitude 0) for minutes, back on its true track at its true
// altitude and speed, did not take off. It failed before the take-off's
// ground speed bound.
func TestNoTakeoffAfterSpoofing(t *testing.T) {
	term := terminal("car", "roam", "UA")
	var in []Observation
	for k := range 8 {
		in = append(in, obs(term, t0.Add(time.Duration(k)*15*time.Second), moscowLat, moscowLon).alt(0))
	}
	lat, lon := zaporizhLat, zaporizhLon
	for k := range 8 {
		lat, lon = dest(lat, lon, 0, 100*(15*time.Second).Hours())
		in = append(in, obs(term, t0.Add(time.Duration(8+k)*15*time.Second), lat, lon).alt(150))
	}
	if got := of(feed(newEngine(t, nil), in), DroneMotion); len(got) > 0 {
		t.Fatalf("drone_motion: %v", detectors(got))
	}
}

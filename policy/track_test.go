package policy

import (
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

func TestDerivedSpeedAllowsForJitter(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	tr := Track{LastUnixNano: t0.UnixNano(), LastLat: 50, LastLon: 30}
	// 30 m of GPS jitter (0.00027 degrees of latitude).
	jitter := 0.00027
	tests := []struct {
		name     string
		after    time.Duration
		dLat     float64
		min, max float64
	}{
		{"jitter over 10 s is standing still", 10 * time.Second, jitter, 0, 2},
		{"jitter over 1 s is standing still", time.Second, jitter, 0, 18.1},
		{"fixes closer than a second derive nothing", 500 * time.Millisecond, 0.01, 0, 0},
		{"2 km in a minute is about 120 km/h", time.Minute, 2 / 111.2, 115, 120},
		{"a drone at 90 km/h reporting every 15 s", 15 * time.Second, 0.375 / 111.2, 83, 90},
	}
	for _, tc := range tests {
		f := skyfence.Fix{Time: t0.Add(tc.after), Lat: 50 + tc.dLat, Lon: 30}
		if v := tr.derivedSpeed(&f); v < tc.min || v > tc.max {
			t.Errorf("%s: %.2f km/h, want %v..%v", tc.name, v, tc.min, tc.max)
		}
	}
}

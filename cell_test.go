package skyfence

import "testing"

func TestCellOfAndBounds(t *testing.T) {
	tests := []struct {
		lat, lon float64
		want     string
	}{
		{50.45, 30.52, "c561.842"},
		{-90, -180, "c0.0"},
		{90, 180, "c719.0"},
		{89.99, 179.99, "c719.1439"},
	}
	for _, tc := range tests {
		id := CellOf(tc.lat, tc.lon)
		if id != tc.want {
			t.Errorf("CellOf(%v, %v) = %s, want %s", tc.lat, tc.lon, id, tc.want)
		}
		minLat, minLon, maxLat, maxLon, ok := CellBounds(id)
		lon := tc.lon
		if lon == 180 {
			lon = -180
		}
		if !ok || tc.lat < minLat || tc.lat > maxLat || lon < minLon || lon > maxLon {
			t.Errorf("CellBounds(%s) = %v %v %v %v %v, not around (%v, %v)", id, minLat, minLon, maxLat, maxLon, ok, tc.lat, tc.lon)
		}
	}
	for _, bad := range []string{"", "c", "c1", "x1.2", "c1.2x", "c-1.0", "c720.0", "c0.1440", "c01.2"} {
		if _, _, _, _, ok := CellBounds(bad); ok {
			t.Errorf("CellBounds(%q) ok", bad)
		}
	}
}

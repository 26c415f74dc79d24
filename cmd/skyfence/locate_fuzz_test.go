package main

import "testing"

// FuzzParseLatLon checks that no line makes the locate parser panic and
// that what it accepts is in range.
func FuzzParseLatLon(f *testing.F) {
	for _, s := range []string{"48.85,2.35", " -90 , 180 ", "lat,lon", "1,2,3", "NaN,0", "1e400,0", "0x10,1", ",", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		lat, lon, err := parseLatLon(line)
		if err == nil && !(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
			t.Fatalf("accepted %q as %v,%v", line, lat, lon)
		}
	})
}

package sim

import "sort"

// A lane is a shipping route: waypoints at sea joined by great circles,
// from an anchorage off one port to an anchorage off another. The
// waypoints were drawn by hand to keep off land; a test checks every
// kilometre of every lane against the atlas.
type lane struct {
	name string
	flag string    // the country its ships are registered in
	pts  []pt      // lat, lon
	cum  []float64 // km from the first waypoint to each waypoint
}

// seaLanes are the routes ships sail (newLanes measures them).
// black-sea-odesa-batumi crosses the scenario's restricted waters off
// Crimea on purpose.
var seaLanes = [...]lane{
	{name: "rotterdam-new-york", flag: "NL", pts: []pt{{52.0, 3.8}, {51.4, 2.1}, {51.02, 1.5}, {50.5, 0.2}, {50.1, -2.5}, {49.7, -5.5}, {48.5, -12}, {45, -30}, {42, -50}, {40.3, -68}, {40.3, -73.6}}},
	{name: "gibraltar-port-said", flag: "GR", pts: []pt{{35.95, -5.6}, {36.4, -2.5}, {37.6, 5}, {37.45, 10.5}, {37.2, 11.6}, {36.6, 13.0}, {35.2, 16.5}, {34.0, 24.0}, {33.0, 28.0}, {31.6, 32.3}}},
	{name: "black-sea-odesa-istanbul", flag: "UA", pts: []pt{{46.2, 31.0}, {45.0, 30.6}, {43.5, 29.5}, {41.45, 29.15}}},
	{name: "black-sea-odesa-batumi", flag: "TR", pts: []pt{{46.2, 31.0}, {44.2, 33.0}, {43.6, 36.5}, {42.4, 39.5}, {41.75, 41.5}}},
	{name: "los-angeles-tokyo", flag: "US", pts: []pt{{33.6, -118.5}, {34.0, -125}, {34.6, 140.2}}},
	{name: "malacca-aden", flag: "SG", pts: []pt{{6.2, 95.6}, {5.5, 81.0}, {12.0, 60.0}, {13.3, 55.0}, {12.5, 47.0}}},
	{name: "houston-new-york", flag: "US", pts: []pt{{29.2, -94.5}, {25.5, -87.0}, {23.9, -82.5}, {24.3, -80.2}, {26.5, -79.7}, {32.0, -78.0}, {35.0, -74.5}, {40.3, -73.6}}},
	{name: "gdansk-fehmarn", flag: "PL", pts: []pt{{54.45, 18.85}, {54.75, 19.0}, {55.0, 18.3}, {54.8, 16.5}, {54.75, 14.0}, {54.9, 13.5}, {54.45, 12.0}}},
}

// newLanes returns the sea lanes with their lengths measured.
func newLanes() []lane {
	out := make([]lane, len(seaLanes))
	for i := range seaLanes {
		l := &out[i]
		*l = seaLanes[i]
		l.cum = make([]float64, len(l.pts))
		for k := 1; k < len(l.pts); k++ {
			a, b := l.pts[k-1], l.pts[k]
			l.cum[k] = l.cum[k-1] + distKm(float64(a.Lat), float64(a.Lon), float64(b.Lat), float64(b.Lon))
		}
	}
	return out
}

func (l *lane) km() float64 { return l.cum[len(l.cum)-1] }

// at returns the position km from the lane's first waypoint.
func (l *lane) at(km float64) (lat, lon float64) {
	k := sort.SearchFloat64s(l.cum, km)
	switch {
	case k == 0:
		return l.pts[0].f64()
	case k == len(l.cum):
		return l.pts[k-1].f64()
	}
	a, b := l.pts[k-1], l.pts[k]
	f := (km - l.cum[k-1]) / (l.cum[k] - l.cum[k-1])
	alat, alon := a.f64()
	blat, blon := b.f64()
	return along(alat, alon, blat, blon, f)
}

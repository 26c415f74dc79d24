package sim

import "math"

// Geometry on a sphere of the radius policy.HaversineKm uses, so that the
// speeds the simulator reports agree with the distances skyfence derives.

const (
	earthKm = 6371.0088
	rad     = math.Pi / 180
	deg     = 180 / math.Pi
)

// pt is a position in degrees, kept in float32 per terminal (a float32
// longitude is exact to 2 m at worst) and float64 when computed.
type pt struct{ Lat, Lon float32 }

func (p pt) f64() (lat, lon float64) { return float64(p.Lat), float64(p.Lon) }

type vec [3]float64

func toVec(lat, lon float64) vec {
	cl := math.Cos(lat * rad)
	return vec{cl * math.Cos(lon*rad), cl * math.Sin(lon*rad), math.Sin(lat * rad)}
}

func (v vec) latLon() (lat, lon float64) {
	return math.Atan2(v[2], math.Hypot(v[0], v[1])) * deg, math.Atan2(v[1], v[0]) * deg
}

// distKm is the great-circle distance in km.
func distKm(lat1, lon1, lat2, lon2 float64) float64 {
	p1, p2 := lat1*rad, lat2*rad
	dp, dl := p2-p1, (lon2-lon1)*rad
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * earthKm * math.Asin(math.Min(1, math.Sqrt(a)))
}

// along returns the point at fraction f of the great circle from a to b
// (the shorter arc; a and b not antipodal).
func along(lat1, lon1, lat2, lon2, f float64) (lat, lon float64) {
	a, b := toVec(lat1, lon1), toVec(lat2, lon2)
	dot := a[0]*b[0] + a[1]*b[1] + a[2]*b[2]
	theta := math.Acos(math.Max(-1, math.Min(1, dot)))
	if theta < 1e-12 {
		return lat1, lon1
	}
	s := math.Sin(theta)
	wa, wb := math.Sin((1-f)*theta)/s, math.Sin(f*theta)/s
	return vec{wa*a[0] + wb*b[0], wa*a[1] + wb*b[1], wa*a[2] + wb*b[2]}.latLon()
}

// offset returns the point km away from (lat, lon) along the initial
// bearing (degrees clockwise from north).
func offset(lat, lon, km, bearing float64) (float64, float64) {
	d := km / earthKm
	p1, l1, b := lat*rad, lon*rad, bearing*rad
	p2 := math.Asin(math.Sin(p1)*math.Cos(d) + math.Cos(p1)*math.Sin(d)*math.Cos(b))
	l2 := l1 + math.Atan2(math.Sin(b)*math.Sin(d)*math.Cos(p1), math.Cos(d)-math.Sin(p1)*math.Sin(p2))
	return p2 * deg, wrapLon(l2 * deg)
}

// local returns the point dx km east and dy km north of (lat, lon), on the
// plane tangent there: for the few kilometres a drone strays from its base.
func local(lat, lon, dx, dy float64) (float64, float64) {
	return lat + dy/(earthKm*rad), wrapLon(lon + dx/(earthKm*rad*math.Cos(lat*rad)))
}

func wrapLon(lon float64) float64 {
	for lon >= 180 {
		lon -= 360
	}
	for lon < -180 {
		lon += 360
	}
	return lon
}

// bearingDeg is the initial heading of the great circle from one position
// to another, in degrees clockwise from north.
func bearingDeg(lat1, lon1, lat2, lon2 float64) float64 {
	p1, p2, dl := lat1*rad, lat2*rad, (lon2-lon1)*rad
	return math.Atan2(math.Sin(dl)*math.Cos(p2), math.Cos(p1)*math.Sin(p2)-math.Sin(p1)*math.Cos(p2)*math.Cos(dl)) * deg
}

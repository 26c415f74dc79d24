package geoindex

import "math"

// Reference answers the same question as Index by the crossing test over
// every edge whose latitude range meets the point's: slow, simple and exact.
// It defines the semantics the index must reproduce, and serves to check an
// index (tests, fuzzing, `skyfence locate --check`).
type Reference struct {
	bandH float64
	bands [][]bedge
}

// NewReference prepares the shapes as Build does and returns a Reference.
func NewReference(shapes []Shape) (*Reference, error) {
	const nb = 4096
	r := &Reference{bandH: 180.0 / nb, bands: make([][]bedge, nb)}
	for i, s := range shapes {
		rings, err := Normalize(s)
		if err != nil {
			return nil, err
		}
		for _, ring := range rings {
			for j, a := range ring {
				c := ring[(j+1)%len(ring)]
				if a == c {
					continue
				}
				e := bedge{a.Lon, a.Lat, c.Lon, c.Lat, int32(i)}
				lo := r.band(math.Min(a.Lat, c.Lat))
				hi := r.band(math.Max(a.Lat, c.Lat))
				for k := lo; k <= hi; k++ {
					r.bands[k] = append(r.bands[k], e)
				}
			}
		}
	}
	return r, nil
}

func (r *Reference) band(lat float64) int {
	return clampInt(int((lat+90)/r.bandH), 0, len(r.bands)-1)
}

// Lookup returns the regions containing the point, in increasing order.
func (r *Reference) Lookup(lon, lat float64) ([]int32, error) {
	if !(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
		return nil, &InvalidPointError{lon, lat}
	}
	lon, lat = canonical(lon, lat)
	var regs []int32
	for _, e := range r.bands[r.band(lat)] {
		if crossesEastRay(e.ax, e.ay, e.bx, e.by, lon, lat) {
			regs = append(regs, e.region)
		}
	}
	return oddOnes(regs), nil
}

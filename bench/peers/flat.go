package peers

import (
	"cmp"
	"errors"
	"slices"

	"github.com/skyfence/skyfence/geoindex"
)

// Flat cell counts: 0.1 degree in both directions.
const (
	flatW = 3600
	flatH = 1800
)

// Flat is a 0.1-degree lookup table: 3600 × 1800 cells, each holding the
// region (plus one, 0 for none) that contains the cell's centre. It is the
// speed ceiling of any lookup (one multiply and one load) and shows what
// that costs in accuracy: every point is given its cell centre's answer.
// It holds one region per cell; where regions overlap at a centre it keeps
// the lowest (countries do not overlap).
type Flat struct {
	cells []uint16
}

// NewFlat fills the table by the crossing test that defines
// geoindex.Reference, row by row: for each row's centre latitude, the
// crossings of every edge with that parallel (an edge counts if exactly one
// end lies above it, as in Reference), sorted, toggle their region from east
// to west. A centre lying within rounding of an edge may get the other
// side's answer; the tests compare the table with Reference cell by cell.
func NewFlat(shapes []geoindex.Shape) (*Flat, error) {
	if len(shapes) >= 1<<16-1 {
		return nil, errors.New("peers: a flat table holds at most 65534 regions")
	}
	all, err := normalizeAll(shapes)
	if err != nil {
		return nil, err
	}
	type crossing struct {
		lon    float64
		region int32
	}
	rows := make([][]crossing, flatH)
	for region, rings := range all {
		for _, r := range rings {
			for i, a := range r {
				b := r[(i+1)%len(r)]
				lo, hi := min(a.Lat, b.Lat), max(a.Lat, b.Lat)
				// Rows whose centre may lie in [lo, hi]; the exact test below.
				j0 := max(int((lo+90)*10-0.5)-1, 0)
				j1 := min(int((hi+90)*10-0.5)+1, flatH-1)
				for j := j0; j <= j1; j++ {
					y := flatLat(j)
					if (a.Lat > y) == (b.Lat > y) {
						continue
					}
					x := a.Lon + (y-a.Lat)*(b.Lon-a.Lon)/(b.Lat-a.Lat)
					rows[j] = append(rows[j], crossing{x, int32(region)})
				}
			}
		}
	}
	f := &Flat{cells: make([]uint16, flatW*flatH)}
	var set []int32
	for j, cs := range rows {
		slices.SortFunc(cs, func(a, b crossing) int { return cmp.Compare(b.lon, a.lon) })
		set = set[:0]
		k := 0
		for i := flatW - 1; i >= 0; i-- {
			x := flatLon(i)
			for ; k < len(cs) && cs[k].lon > x; k++ {
				set = toggle(set, 0, cs[k].region)
			}
			if len(set) > 0 {
				f.cells[j*flatW+i] = uint16(slices.Min(set) + 1)
			}
		}
		rows[j] = nil
	}
	return f, nil
}

// flatLon and flatLat are the centre of column i and row j.
func flatLon(i int) float64 { return -180 + (float64(i)+0.5)/10 }
func flatLat(j int) float64 { return -90 + (float64(j)+0.5)/10 }

// Name returns "flat".
func (f *Flat) Name() string { return "flat" }

// Contains implements Engine. A point outside the window gets its nearest
// cell's answer.
func (f *Flat) Contains(lon, lat float64, dst []int32) []int32 {
	i := min(max(int((lon+180)*10), 0), flatW-1)
	j := min(max(int((lat+90)*10), 0), flatH-1)
	if v := f.cells[j*flatW+i]; v != 0 {
		dst = append(dst, int32(v)-1)
	}
	return dst
}

package peers

import (
	"strings"

	"github.com/tidwall/geojson/geometry"
	"github.com/tidwall/rtree"

	"github.com/skyfence/skyfence/geoindex"
)

// Tidwall is the geometry engine of the Tile38 geofencing server: an R-tree
// (tidwall/rtree) of bounding boxes over polygons of tidwall/geojson's
// geometry package, each with its own segment index, queried with
// Poly.ContainsPoint.
//
// Every normalized ring is one geometry.Poly without holes, and a region
// contains the point iff an odd number of its rings do: the even-odd rule
// that geoindex uses, so holes (Lesotho in South Africa) and the
// back-and-forth edges of the antimeridian cut come out the same. Points on
// a ring count as inside it (tidwall's allowOnEdge for exteriors), which
// differs from geoindex's half-open rule only on the boundary itself.
type Tidwall struct {
	name  string
	tree  rtree.RTreeG[int32] // ring bounding boxes -> index into rings
	rings []tidwallRing
}

type tidwallRing struct {
	poly   *geometry.Poly
	region int32
}

// NewTidwall builds the engine over shapes with the given segment index kind
// (geometry.RTree or geometry.QuadTree) for rings of 64 points or more, as
// Tile38 configures it. Measured here on the 1:10m countries over the
// harness's points (BenchmarkTidwallKind), the R-tree is the faster for
// point lookups, about 560,000 against 350,000 a second, so the harness uses
// it: the engine is named "tidwall" with it and "tidwall-quadtree" with the
// quadtree.
func NewTidwall(shapes []geoindex.Shape, kind geometry.IndexKind) (*Tidwall, error) {
	all, err := normalizeAll(shapes)
	if err != nil {
		return nil, err
	}
	e := &Tidwall{name: "tidwall"}
	if kind != geometry.RTree {
		e.name = "tidwall-" + strings.ToLower(kind.String())
	}
	opts := &geometry.IndexOptions{Kind: kind, MinPoints: 64}
	for region, rings := range all {
		for _, r := range rings {
			pts := make([]geometry.Point, len(r), len(r)+1)
			for i, p := range r {
				pts[i] = geometry.Point{X: p.Lon, Y: p.Lat}
			}
			pts = append(pts, pts[0]) // geojson rings are closed
			poly := geometry.NewPoly(pts, nil, opts)
			rect := poly.Rect()
			e.tree.Insert([2]float64{rect.Min.X, rect.Min.Y}, [2]float64{rect.Max.X, rect.Max.Y}, int32(len(e.rings)))
			e.rings = append(e.rings, tidwallRing{poly, int32(region)})
		}
	}
	return e, nil
}

// Name returns "tidwall" (R-tree segment index) or "tidwall-quadtree".
func (e *Tidwall) Name() string { return e.name }

// Contains implements Engine.
func (e *Tidwall) Contains(lon, lat float64, dst []int32) []int32 {
	start := len(dst)
	pt := geometry.Point{X: lon, Y: lat}
	box := [2]float64{lon, lat}
	e.tree.Search(box, box, func(_, _ [2]float64, i int32) bool {
		if r := &e.rings[i]; r.poly.ContainsPoint(pt) {
			dst = toggle(dst, start, r.region)
		}
		return true
	})
	sortSmall(dst[start:])
	return dst
}

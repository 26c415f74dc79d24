package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/skyfence/skyfence/world"
)

// topology is the part of a world-atlas TopoJSON file that worldgen reads.
type topology struct {
	Transform struct {
		Scale     [2]float64 `json:"scale"`
		Translate [2]float64 `json:"translate"`
	} `json:"transform"`
	Arcs    [][][2]int64 `json:"arcs"`
	Objects struct {
		Countries struct {
			Geometries []geometry `json:"geometries"`
		} `json:"countries"`
	} `json:"objects"`
}

// geometry is one feature of objects.countries.
type geometry struct {
	Type       string                `json:"type"`
	ID         string                `json:"id"`
	Properties struct{ Name string } `json:"properties"`
	Arcs       json.RawMessage       `json:"arcs"`
}

// rawFeature is a feature with its rings assembled from arcs: closed (last
// vertex equal to the first), in the source's orientation, not unwrapped.
type rawFeature struct {
	Name, ID string
	Polygons [][][]world.QPoint
}

func readTopology(path string) (*topology, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t topology
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(t.Objects.Countries.Geometries) == 0 {
		return nil, fmt.Errorf("%s: no objects.countries.geometries", path)
	}
	return &t, nil
}

// transform returns the file's transform and the width of the world (360
// degrees) in quantized x units, which must be a whole number so that
// unwrapping keeps coordinates exact.
func (t *topology) transform() (world.Transform, int32, error) {
	tr := world.Transform{
		ScaleX: t.Transform.Scale[0], ScaleY: t.Transform.Scale[1],
		TranslateX: t.Transform.Translate[0], TranslateY: t.Transform.Translate[1],
	}
	if tr.ScaleX <= 0 || tr.ScaleY <= 0 {
		return tr, 0, fmt.Errorf("transform %+v: want positive scales", tr)
	}
	w := 360 / tr.ScaleX
	if math.Abs(w-math.Round(w)) > 1e-6 || w > math.MaxInt32/4 {
		return tr, 0, fmt.Errorf("360 degrees is %v quantized units, not a whole number", w)
	}
	return tr, int32(math.Round(w)), nil
}

// decodeArcs undoes the delta encoding of the arcs: the first position of
// each arc is absolute, each later one is relative to the one before.
func (t *topology) decodeArcs() ([][]world.QPoint, error) {
	arcs := make([][]world.QPoint, len(t.Arcs))
	for i, a := range t.Arcs {
		if len(a) < 2 {
			return nil, fmt.Errorf("arc %d has %d positions", i, len(a))
		}
		pts := make([]world.QPoint, len(a))
		var x, y int64
		for j, d := range a {
			x, y = x+d[0], y+d[1]
			if x != int64(int32(x)) || y != int64(int32(y)) {
				return nil, fmt.Errorf("arc %d position %d (%d, %d) overflows int32", i, j, x, y)
			}
			pts[j] = world.QPoint{X: int32(x), Y: int32(y)}
		}
		arcs[i] = pts
	}
	return arcs, nil
}

// features assembles every geometry's rings from the decoded arcs.
func (t *topology) features(arcs [][]world.QPoint) ([]rawFeature, error) {
	var out []rawFeature
	for i, g := range t.Objects.Countries.Geometries {
		f := rawFeature{Name: g.Properties.Name, ID: g.ID}
		if f.Name == "" {
			return nil, fmt.Errorf("geometry %d (id %q) has no name", i, g.ID)
		}
		var polys [][][]int
		switch g.Type {
		case "Polygon":
			var p [][]int
			if err := json.Unmarshal(g.Arcs, &p); err != nil {
				return nil, fmt.Errorf("%s: arcs: %v", f.Name, err)
			}
			polys = [][][]int{p}
		case "MultiPolygon":
			if err := json.Unmarshal(g.Arcs, &polys); err != nil {
				return nil, fmt.Errorf("%s: arcs: %v", f.Name, err)
			}
		default:
			return nil, fmt.Errorf("%s: geometry type %q, want Polygon or MultiPolygon", f.Name, g.Type)
		}
		for j, p := range polys {
			var rings [][]world.QPoint
			for k, idx := range p {
				r, err := assembleRing(arcs, idx)
				if err != nil {
					return nil, fmt.Errorf("%s polygon %d ring %d: %v", f.Name, j, k, err)
				}
				rings = append(rings, r)
			}
			f.Polygons = append(f.Polygons, rings)
		}
		out = append(out, f)
	}
	return out, nil
}

// assembleRing joins the arcs of one ring. Index ^i (that is, -i-1) means
// arc i reversed. Each arc after the first starts where the previous one
// ended, so its first position is dropped. The result is closed.
func assembleRing(arcs [][]world.QPoint, idx []int) ([]world.QPoint, error) {
	var ring []world.QPoint
	for n, i := range idx {
		rev := i < 0
		if rev {
			i = ^i
		}
		if i >= len(arcs) {
			return nil, fmt.Errorf("arc index %d out of range", i)
		}
		a := arcs[i]
		if rev {
			a = reversed(a)
		}
		if n > 0 {
			if ring[len(ring)-1] != a[0] {
				return nil, fmt.Errorf("arc %d does not start where the previous one ends", idx[n])
			}
			a = a[1:]
		}
		ring = append(ring, a...)
	}
	if len(ring) == 0 || ring[0] != ring[len(ring)-1] {
		return nil, fmt.Errorf("ring of arcs %v is not closed", idx)
	}
	return ring, nil
}

// reversed returns a reversed copy of a.
func reversed(a []world.QPoint) []world.QPoint {
	out := make([]world.QPoint, len(a))
	for i, p := range a {
		out[len(a)-1-i] = p
	}
	return out
}

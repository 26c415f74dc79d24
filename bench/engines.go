package bench

import (
	"fmt"
	"slices"

	"github.com/tidwall/geojson/geometry"

	"github.com/skyfence/skyfence/bench/peers"
	"github.com/skyfence/skyfence/geoindex"
)

// spec is an engine the harness knows: how to build it, and whether it is a
// peer (timed on a subset of the points, since peers are slow).
type spec struct {
	name  string
	peer  bool
	build func(shapes []geoindex.Shape) (runner, error)
}

// runner is a built engine as the harness drives it.
type runner interface {
	// pass looks up every point once and returns a checksum of the answers,
	// so that no lookup can be optimised away.
	pass(pts []geoindex.Point) uint64
	// answers calls each with the regions of every point, in order.
	answers(pts []geoindex.Point, each func(i int, regs []int32))
}

// specs lists every engine in report order; the default runs them all.
var specs = []spec{
	{name: "skyfence", build: func(s []geoindex.Shape) (runner, error) { return buildIndex(s, false) }},
	{name: "skyfence-batch", build: func(s []geoindex.Shape) (runner, error) { return buildIndex(s, true) }},
	{name: "tidwall", peer: true, build: func(s []geoindex.Shape) (runner, error) {
		return asRunner(peers.NewTidwall(s, geometry.RTree))
	}},
	{name: "tidwall-quadtree", peer: true, build: func(s []geoindex.Shape) (runner, error) {
		return asRunner(peers.NewTidwall(s, geometry.QuadTree))
	}},
	{name: "s2-raw", peer: true, build: func(s []geoindex.Shape) (runner, error) { return asRunner(peers.NewS2(s, false)) }},
	{name: "s2-clean", peer: true, build: func(s []geoindex.Shape) (runner, error) { return asRunner(peers.NewS2(s, true)) }},
	{name: "flat", peer: true, build: func(s []geoindex.Shape) (runner, error) { return asRunner(peers.NewFlat(s)) }},
}

// EngineNames returns the names of every engine Locate can measure, in the
// order it reports them.
func EngineNames() []string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.name
	}
	return names
}

// selectSpecs returns the specs named, in report order; all if none are.
func selectSpecs(names []string) ([]spec, error) {
	if len(names) == 0 {
		return specs, nil
	}
	for _, n := range names {
		if !slices.Contains(EngineNames(), n) {
			return nil, fmt.Errorf("bench: unknown engine %q (known: %v)", n, EngineNames())
		}
	}
	var out []spec
	for _, s := range specs {
		if slices.Contains(names, s.name) {
			out = append(out, s)
		}
	}
	return out, nil
}

// indexRunner drives skyfence's geoindex.Index, one Lookup at a time or
// with LookupBatch over the whole point set (which it splits into chunks of
// its own).
type indexRunner struct {
	ix    *geoindex.Index
	batch bool
	out   []geoindex.SetID
}

func buildIndex(shapes []geoindex.Shape, batch bool) (runner, error) {
	ix, err := geoindex.Build(shapes, geoindex.Options{})
	if err != nil {
		return nil, err
	}
	return &indexRunner{ix: ix, batch: batch}, nil
}

func (r *indexRunner) pass(pts []geoindex.Point) uint64 {
	var sum uint64
	if r.batch {
		r.out = slices.Grow(r.out[:0], len(pts))[:len(pts)]
		_ = r.ix.LookupBatch(pts, r.out)
		for _, id := range r.out {
			sum += uint64(id)
		}
		return sum
	}
	for _, p := range pts {
		id, _ := r.ix.Lookup(p.Lon, p.Lat)
		sum += uint64(id)
	}
	return sum
}

func (r *indexRunner) answers(pts []geoindex.Point, each func(int, []int32)) {
	if r.batch {
		r.out = slices.Grow(r.out[:0], len(pts))[:len(pts)]
		_ = r.ix.LookupBatch(pts, r.out)
		for i, id := range r.out {
			each(i, r.ix.Regions(id))
		}
		return
	}
	for i, p := range pts {
		id, _ := r.ix.Lookup(p.Lon, p.Lat)
		each(i, r.ix.Regions(id))
	}
}

// peerRunner drives a peers.Engine.
type peerRunner struct {
	e   peers.Engine
	dst []int32
}

func asRunner[E peers.Engine](e E, err error) (runner, error) {
	if err != nil {
		return nil, err
	}
	return &peerRunner{e: e}, nil
}

func (r *peerRunner) pass(pts []geoindex.Point) uint64 {
	var sum uint64
	for _, p := range pts {
		r.dst = r.e.Contains(p.Lon, p.Lat, r.dst[:0])
		sum += uint64(len(r.dst))
		if len(r.dst) > 0 {
			sum += uint64(r.dst[0])
		}
	}
	return sum
}

func (r *peerRunner) answers(pts []geoindex.Point, each func(int, []int32)) {
	for i, p := range pts {
		r.dst = r.e.Contains(p.Lon, p.Lat, r.dst[:0])
		each(i, r.dst)
	}
}

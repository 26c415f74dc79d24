package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/skyfence/skyfence/world"
)

type qr = world.QRing

func p(x, y int32) world.QPoint { return world.QPoint{X: x, Y: y} }

func TestDecodeArcs(t *testing.T) {
	var topo topology
	topo.Arcs = [][][2]int64{{{5, 5}, {1, 0}, {0, 2}, {-3, -1}}}
	got, err := topo.decodeArcs()
	if err != nil {
		t.Fatal(err)
	}
	want := []world.QPoint{p(5, 5), p(6, 5), p(6, 7), p(3, 6)}
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("decodeArcs = %v, want %v", got[0], want)
	}
}

func TestAssembleRing(t *testing.T) {
	arcs := [][]world.QPoint{
		{p(0, 0), p(4, 0), p(4, 4)},
		{p(0, 0), p(0, 4), p(4, 4)}, // used reversed
	}
	got, err := assembleRing(arcs, []int{0, ^1})
	if err != nil {
		t.Fatal(err)
	}
	want := []world.QPoint{p(0, 0), p(4, 0), p(4, 4), p(0, 4), p(0, 0)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("assembleRing = %v, want %v", got, want)
	}
	if _, err := assembleRing(arcs, []int{0, 1}); err == nil {
		t.Error("arcs that do not join: want an error")
	}
	if _, err := assembleRing(arcs, []int{0}); err == nil {
		t.Error("open ring: want an error")
	}
}

func TestCleanRing(t *testing.T) {
	const w = 100 // the world is 100 units wide
	for _, tc := range []struct {
		name         string
		closed       []world.QPoint
		want         qr
		turns, jumps int
	}{
		{
			name:   "reversed, closing and repeated vertices dropped",
			closed: []world.QPoint{p(10, 10), p(10, 20), p(10, 20), p(20, 20), p(20, 10), p(10, 10)},
			want:   qr{p(20, 10), p(20, 20), p(10, 20), p(10, 10)},
		},
		{
			name: "crosses the antimeridian twice, like Russia",
			// 95 -> 2 is a step of 7 units east across the antimeridian.
			closed: []world.QPoint{p(90, 10), p(95, 10), p(2, 10), p(2, 20), p(95, 20), p(90, 10)},
			want:   qr{p(95, 20), p(102, 20), p(102, 10), p(95, 10), p(90, 10)},
			jumps:  2,
		},
		{
			name: "winds round the pole once, like Antarctica",
			// Runs east in the source: after reversal it runs west.
			closed: []world.QPoint{p(0, 5), p(40, 4), p(80, 5), p(99, 6), p(1, 5), p(0, 5)},
			want:   qr{p(101, 5), p(99, 6), p(80, 5), p(40, 4), p(0, 5)},
			turns:  -1, jumps: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, turns, jumps := cleanRing(tc.closed, w)
			if !reflect.DeepEqual(got, tc.want) || turns != tc.turns || jumps != tc.jumps {
				t.Errorf("cleanRing = %v, %d turns, %d jumps; want %v, %d, %d", got, turns, jumps, tc.want, tc.turns, tc.jumps)
			}
		})
	}
}

func TestWidenRing(t *testing.T) {
	spike := qr{p(5, 1), p(5, 2)}
	if got, want := widenRing(spike, false), (qr{p(4, 1), p(6, 1), p(6, 2), p(4, 2)}); !reflect.DeepEqual(got, want) {
		t.Errorf("widenRing = %v, want %v", got, want)
	}
	hole := widenRing(spike, true)
	if area2(hole) >= 0 || distinct(hole) != 4 {
		t.Errorf("widened hole %v: want a clockwise box", hole)
	}
}

func square(x, y int32) world.QPolygon {
	return world.QPolygon{{p(x, y), p(x+1, y), p(x+1, y+1), p(x, y+1)}}
}

func TestAssign(t *testing.T) {
	tr := world.Transform{ScaleX: 1, ScaleY: 1}
	numeric := map[string]string{"250": "FR", "724": "ES"}
	feats := []feature{
		{Name: "France", ID: "250", Polygons: []world.QPolygon{square(2, 46), square(-53, 4)}},
		{Name: "Spain", ID: "724", Polygons: []world.QPolygon{square(-4, 40)}},
		{Name: "Clipperton I.", Polygons: []world.QPolygon{square(-110, 10)}},
	}
	regions, splits, err := assign(feats, numeric, tr, false)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, r := range regions {
		codes = append(codes, r.Code+"/"+r.Sovereign)
	}
	if got, want := strings.Join(codes, " "), "ES/ES FR/FR GF/FR"; got != want {
		t.Errorf("regions %s, want %s", got, want)
	}
	if len(regions[1].Polygons) != 2 || len(splits) != 1 {
		t.Errorf("FR has %d polygons (want mainland and Clipperton), %d splits (want 1)", len(regions[1].Polygons), len(splits))
	}

	for _, tc := range []struct {
		name  string
		feats []feature
		want  string
	}{
		{"unknown", []feature{{Name: "Atlantis", ID: "999", Polygons: []world.QPolygon{square(0, 0)}}}, `"Atlantis"`},
		{"twice", []feature{feats[1], {Name: "Spain again", ID: "724", Polygons: []world.QPolygon{square(0, 0)}}}, "both have code ES"},
		{"no target", []feature{feats[1], feats[2]}, "merge target FR"},
	} {
		if _, _, err := assign(tc.feats, numeric, tr, false); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %s", tc.name, err, tc.want)
		}
	}
	if _, _, err := assign(feats, numeric, tr, true); err == nil {
		t.Error("strict, with most rules unused: want an error")
	}
}

// TestTables checks the tables in codes.go against each other.
func TestTables(t *testing.T) {
	for _, r := range nameRules {
		if r.Reason == "" || len(r.Code) != 2 || r.Merge == (r.Sovereign != "") {
			t.Errorf("nameRules %q: want a reason, a code, and a sovereign unless merged", r.Name)
		}
	}
	for _, tr := range territories {
		if _, ok := dependencies[tr.Code]; ok {
			t.Errorf("territory %s is also in dependencies", tr.Code)
		}
		if b := tr.BBox; b[0] >= b[2] || b[1] >= b[3] {
			t.Errorf("territory %s: empty box %v", tr.Code, b)
		}
	}
}

func TestRecentre(t *testing.T) {
	const w = 100
	for _, tc := range []struct {
		name string
		in   world.QPolygon
		want world.QPolygon
	}{
		{"in range", world.QPolygon{{p(10, 0), p(20, 0), p(20, 5)}}, world.QPolygon{{p(10, 0), p(20, 0), p(20, 5)}}},
		{
			"a turn west, hole and all",
			world.QPolygon{{p(-90, 0), p(-80, 0), p(-80, 5)}, {p(-89, 1), p(-85, 4), p(-81, 1)}},
			world.QPolygon{{p(10, 0), p(20, 0), p(20, 5)}, {p(11, 1), p(15, 4), p(19, 1)}},
		},
		{"middle at 180 moves west", world.QPolygon{{p(90, 0), p(110, 0), p(110, 5)}}, world.QPolygon{{p(-10, 0), p(10, 0), p(10, 5)}}},
		{"winds round a pole", world.QPolygon{{p(150, 0), p(100, 1), p(50, 0)}}, world.QPolygon{{p(150, 0), p(100, 1), p(50, 0)}}},
	} {
		if got := recentre(tc.in, w); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: recentre = %v, want %v", tc.name, got, tc.want)
		}
	}
}

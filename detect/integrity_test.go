package detect

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

func TestFutureTimestamp(t *testing.T) {
	term := terminal("T-1", "residential", "PL")
	e := newEngine(t, nil)
	at := t0.Add(time.Hour)
	soon := obs(term, at.Add(time.Minute), warsawLat, warsawLon)
	soon.Received = at
	if got := e.Process(&soon); len(got) != 0 {
		t.Fatalf("a fix 1 min ahead raised %v", detectors(got))
	}
	future := obs(term, at.Add(10*time.Minute+time.Second), warsawLat, warsawLon)
	future.Received = at.Add(time.Second)
	got := e.Process(&future)
	if len(got) != 1 || got[0].Detector != FutureTimestamp {
		t.Fatalf("a fix 10 min ahead raised %v, want future_timestamp", detectors(got))
	}
	if got[0].Value != 600 || got[0].Limit != 300 {
		t.Errorf("value %v s limit %v s, want 600 and 300", got[0].Value, got[0].Limit)
	}
	// The future fix was not recorded: the next real fix is not out of
	// order.
	next := obs(term, at.Add(2*time.Minute), warsawLat, warsawLon)
	e.Process(&next)
	if s := e.Stats(); s.Ignored != 0 {
		t.Errorf("%d observations ignored, want 0", s.Ignored)
	}
	if st := e.states[e.index["T-1"]]; st.at(0).t != next.Fix.Time.UnixNano() {
		t.Errorf("newest sample at %v, want the fix after the future one", time.Unix(0, st.at(0).t).UTC())
	}
}

func TestFutureTimestampUsesTheClock(t *testing.T) {
	term := terminal("T-1", "residential", "PL")
	e := newEngine(t, nil) // the clock says t0
	o := obs(term, t0.Add(time.Hour), warsawLat, warsawLon)
	o.Received = time.Time{}
	if got := e.Process(&o); len(got) != 1 || got[0].Detector != FutureTimestamp {
		t.Fatalf("a fix an hour after the clock raised %v, want future_timestamp", detectors(got))
	}
}

func TestCellMismatch(t *testing.T) {
	term := terminal("T-1", "roam", "PL")
	farLat, farLon := dest(warsawLat, warsawLon, 180, 300)
	beams := map[string][2]float64{"beam-7": {farLat, farLon}, "beam-8": {warsawLat, warsawLon}}
	cases := []struct {
		name, cell string
		want       bool
	}{
		{"its own capacity cell", skyfence.CellOf(warsawLat, warsawLon), false},
		{"a neighbouring cell", skyfence.CellOf(warsawLat+0.25, warsawLon), false},
		{"a cell 300 km away", skyfence.CellOf(farLat, farLon), true},
		{"a beam 300 km away", "beam-7", true},
		{"a beam overhead", "beam-8", false},
		{"an unknown beam", "beam-9", false},
		{"a malformed cell id", "c12x", false},
		{"a cell id out of range", "c999.99", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := New(DefaultConfig(), Options{Beam: func(id string) (float64, float64, bool) {
				b, ok := beams[id]
				return b[0], b[1], ok
			}})
			if err != nil {
				t.Fatal(err)
			}
			o := obs(term, t0, warsawLat, warsawLon)
			o.Fix.ServingCell = c.cell
			got := of(e.Process(&o), CellMismatch)
			if (len(got) == 1) != c.want {
				t.Fatalf("cell_mismatch alerts: %d, want any: %v", len(got), c.want)
			}
			if c.want && math.Abs(got[0].Value-300) > 25 {
				t.Errorf("%.1f km from the centre, want about 300", got[0].Value)
			}
			if c.want && got[0].Evidence[0].Cell != c.cell {
				t.Errorf("evidence cell %q, want %q", got[0].Evidence[0].Cell, c.cell)
			}
		})
	}
}

func TestCellCentre(t *testing.T) {
	for _, p := range [][2]float64{{0, 0}, {warsawLat, warsawLon}, {-89.9, -179.9}, {89.9, 179.9}, {-33.9, 151.2}} {
		id := skyfence.CellOf(p[0], p[1])
		lat, lon, ok := cellCentre(id)
		if !ok || math.Abs(lat-p[0]) > skyfence.CellDegrees/2 || math.Abs(lon-p[1]) > skyfence.CellDegrees/2 {
			t.Errorf("cellCentre(%q) = %v, %v, %v, want the centre of the cell holding %v", id, lat, lon, ok, p)
		}
	}
}

// clones returns n terminals and one fix of each at the same exact
// position, a second apart, starting at start.
func clones(n int, start time.Time, lat, lon float64) []Observation {
	var out []Observation
	for i := range n {
		term := terminal(fmt.Sprintf("T-CLONE-%02d", i), "residential", "UA")
		out = append(out, obs(term, start.Add(time.Duration(i)*time.Second), lat, lon))
	}
	return out
}

func TestClonedPosition(t *testing.T) {
	t.Run("20 terminals at exactly the same position", func(t *testing.T) {
		e := newEngine(t, nil)
		first := clones(20, t0, kyivLat, kyivLon)
		got := distinct(of(feed(e, first), ClonedPosition))
		// The first terminal is known to the filter by its hash only: it
		// is alerted when it reports the position again.
		if len(got) != 19 {
			t.Fatalf("%d cloned_position alerts after one round, want 19", len(got))
		}
		for _, a := range got {
			if a.TerminalID == "T-CLONE-00" {
				t.Errorf("the first terminal was alerted before it came back")
			}
			if want := fmt.Sprintf("pos:%v,%v", kyivLat, kyivLon); a.Group != want {
				t.Errorf("group %q, want %q", a.Group, want)
			}
		}
		if got[0].Value != 10 || got[len(got)-1].Value != 20 {
			t.Errorf("values %v..%v, want 10..20 terminals", got[0].Value, got[len(got)-1].Value)
		}
		last := got[len(got)-1]
		if len(last.Related) != 18 || last.Score != 1 {
			t.Errorf("last alert: %d related, score %v; want 18 (all but itself and the first) and 1", len(last.Related), last.Score)
		}
		second := clones(20, t0.Add(time.Minute), kyivLat, kyivLon)
		got = distinct(of(append(got, feed(e, second)...), ClonedPosition))
		if len(got) != 20 {
			t.Fatalf("%d cloned_position alerts after two rounds, want 20", len(got))
		}
		if s := e.Stats(); s.Alerts != 20 || s.SharedPositions != 1 {
			t.Errorf("stats %+v, want 20 alerts opened and 1 shared position", s)
		}
	})
	t.Run("9 terminals at the same position", func(t *testing.T) {
		if got := feed(newEngine(t, nil), clones(9, t0, kyivLat, kyivLon)); len(got) != 0 {
			t.Errorf("got %v, want nothing", detectors(got))
		}
	})
	t.Run("20 terminals a few metres apart", func(t *testing.T) {
		var track []Observation
		for i, o := range clones(20, t0, kyivLat, kyivLon) {
			o.Fix.Lat, o.Fix.Lon = dest(kyivLat, kyivLon, float64(i*18), 0.005)
			track = append(track, o)
		}
		e := newEngine(t, nil)
		if got := feed(e, track); len(got) != 0 {
			t.Errorf("got %v, want nothing", detectors(got))
		}
		if n := e.Stats().SharedPositions; n != 0 {
			t.Errorf("%d shared positions, want 0", n)
		}
	})
	t.Run("10 terminals at the same position, an hour apart", func(t *testing.T) {
		var track []Observation
		for i, o := range clones(10, t0, kyivLat, kyivLon) {
			o.Fix.Time = t0.Add(time.Duration(i) * time.Hour)
			o.Received = o.Fix.Time
			track = append(track, o)
		}
		if got := feed(newEngine(t, nil), track); len(got) != 0 {
			t.Errorf("got %v, want nothing", detectors(got))
		}
	})
}

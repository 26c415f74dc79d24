package detect

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

// spoofedArea is 40 fixed terminals within about 60 km of Kyiv reporting
// every 15 s, whose receivers all report one fake position (a point in
// Russia, bit for bit, at 0 km/h, denied as embargoed) from 5 to 13
// minutes, then their own again; their serving cells (if cells) stay
// their true ones. It returns the observations in time order and the
// terminals' ids.
func spoofedArea(cells bool, extra func(at time.Time, k int) []Observation) ([]Observation, []string) {
	var terms []*skyfence.Terminal
	var home [][2]float64
	for k := range 40 {
		terms = append(terms, terminal(fmt.Sprintf("honest-%02d", k), "residential", "UA"))
		lat, lon := dest(kyivLat, kyivLon, float64(k)*37, 1+float64(k%10)*6)
		home = append(home, [2]float64{lat, lon})
	}
	fakeLat, fakeLon := 51.7, 36.2 // near Kursk
	var out []Observation
	for k := 0; k < 20*4; k++ { // 20 minutes of 15 s
		at := t0.Add(time.Duration(k) * 15 * time.Second)
		spoofed := at.Sub(t0) >= 5*time.Minute && at.Sub(t0) < 13*time.Minute
		for i, term := range terms {
			ft := at.Add(time.Duration(i) * 300 * time.Millisecond)
			o := obs(term, ft, home[i][0], home[i][1]).alt(150)
			if cells {
				o.Fix.ServingCell = skyfence.CellOf(home[i][0], home[i][1])
			}
			if spoofed {
				o.Fix.Lat, o.Fix.Lon, o.Fix.AltM, o.Fix.SpeedKmh = fakeLat, fakeLon, 0, 0
				o = o.deny(policy.RegionEmbargoed, "", "RU", "RU")
			}
			out = append(out, o)
		}
		if extra != nil {
			out = append(out, extra(at, k)...)
		}
	}
	ids := make([]string, len(terms))
	for i, t := range terms {
		ids[i] = t.ID
	}
	return out, ids
}

func TestInterferenceIncident(t *testing.T) {
	for _, cells := range []bool{true, false} {
		t.Run(fmt.Sprintf("cells=%v", cells), func(t *testing.T) {
			e := newEngine(t, nil)
			in, honest := spoofedArea(cells, nil)
			alerts := distinct(feed(e, in))
			incs := e.Incidents()
			if len(incs) != 1 {
				t.Fatalf("%d incidents, want 1: %+v", len(incs), incs)
			}
			inc := incs[0]
			start := t0.Add(5 * time.Minute)
			if inc.Kind != IncidentKind || inc.Terminals < 35 || inc.Start.Before(start) || inc.Opened.Sub(start) > time.Minute {
				t.Errorf("incident %+v: want its 40 terminals, from %v, raised within a minute", inc, start)
			}
			if inc.MinLat > kyivLat || inc.MaxLat < kyivLat || inc.MinLon > kyivLon || inc.MaxLon < kyivLon {
				t.Errorf("incident area %+v does not cover Kyiv", inc)
			}
			for _, a := range alerts {
				if !slices.Contains(honest, a.TerminalID) {
					continue
				}
				if a.Severity >= Medium || !a.Explained && a.Detector != OriginDenied {
					t.Errorf("honest %s: %s %s (explained %v): %s", a.TerminalID, a.Severity, a.Detector, a.Explained, a.Summary)
				}
				if a.Incident != inc.ID {
					t.Errorf("honest %s's %s alert names incident %q, want %s", a.TerminalID, a.Detector, a.Incident, inc.ID)
				}
			}
			if e.Stats().Incidents != 1 {
				t.Errorf("stats count %d incidents", e.Stats().Incidents)
			}
		})
	}
}

// TestIncidentStillCatches: a spoofer jumping out and straight back, a
// drone taking off and a terminal whose cell is far from its claim inside
// the interference area are still alerted, naming the incident.
func TestIncidentStillCatches(t *testing.T) {
	jumper := terminal("jumper", "roam", "UA")
	drone := terminal("drone", "roam", "UA")
	track := terminal("spoof-track", "roam", "UA")
	dlat, dlon := dest(kyivLat, kyivLon, 90, 20)
	extra := func(at time.Time, k int) []Observation {
		var out []Observation
		// The jumper sits in Kyiv and from minute 6 reports Warsaw every
		// other fix.
		o := obs(jumper, at.Add(time.Second), kyivLat, kyivLon)
		o.Fix.ServingCell = skyfence.CellOf(kyivLat, kyivLon)
		if at.Sub(t0) >= 6*time.Minute && k%2 == 0 {
			o.Fix.Lat, o.Fix.Lon = warsawLat, warsawLon
		}
		out = append(out, o)
		// The drone rests on the ground, then from minute 7 climbs 60 m
		// in 15 s and flies east at 65 km/h, under the cap.
		lat, lon, alt := dlat, dlon, 120.0
		if fl := at.Sub(t0) - 7*time.Minute; fl >= 0 {
			lat, lon = dest(dlat, dlon, 90, 65*(fl+15*time.Second).Hours())
			alt = 180
		}
		out = append(out, obs(drone, at.Add(2*time.Second), lat, lon).alt(alt))
		// The spoof-track drives around Kyiv while its cell is Belgorod's.
		tlat, tlon := dest(kyivLat, kyivLon, 0, 30*at.Sub(t0).Hours())
		o = obs(track, at.Add(3*time.Second), tlat, tlon)
		o.Fix.ServingCell = skyfence.CellOf(50.6, 36.6)
		out = append(out, o)
		return out
	}
	e := newEngine(t, nil)
	in, _ := spoofedArea(true, extra)
	alerts := distinct(feed(e, in))
	if len(e.Incidents()) != 1 {
		t.Fatalf("%d incidents, want 1", len(e.Incidents()))
	}
	id := e.Incidents()[0].ID
	for _, want := range []struct {
		term string
		det  Detector
	}{{"jumper", ImpossibleTravel}, {"drone", DroneMotion}, {"spoof-track", CellMismatch}} {
		found := false
		for _, a := range alerts {
			if a.TerminalID == want.term && a.Detector == want.det && a.Severity >= Medium && !a.Explained {
				found = true
				if want.term != "spoof-track" && a.Incident != id && a.LastSeen.After(t0.Add(6*time.Minute)) {
					t.Errorf("%s's %s alert names incident %q, want %s", want.term, want.det, a.Incident, id)
				}
			}
		}
		if !found {
			t.Errorf("%s: no medium or high %s alert; got %v", want.term, want.det, detectors(alerts))
		}
	}
}

// TestNoIncidentFromFewJumpers: spoof-jumpers of one city jumping at the
// same time are a small share of its fixes: no incident, and they are
// alerted.
func TestNoIncidentFromFewJumpers(t *testing.T) {
	e := newEngine(t, nil)
	var in []Observation
	for k := 0; k < 40; k++ {
		at := t0.Add(time.Duration(k) * 15 * time.Second)
		for i := range 400 {
			term := terminal(fmt.Sprintf("t-%03d", i), "residential", "UA")
			lat, lon := dest(kyivLat, kyivLon, float64(i), float64(i%20))
			o := obs(term, at.Add(time.Duration(i)*10*time.Millisecond), lat, lon)
			o.Fix.ServingCell = skyfence.CellOf(lat, lon)
			if i < 10 && k >= 10 && k%2 == 0 {
				o.Fix.Lat, o.Fix.Lon = warsawLat+float64(i), warsawLon
			}
			in = append(in, o)
		}
	}
	alerts := distinct(feed(e, in))
	if n := len(e.Incidents()); n != 0 {
		t.Fatalf("%d incidents from 10 jumpers among 400", n)
	}
	caught := map[string]bool{}
	for _, a := range of(alerts, ImpossibleTravel) {
		if a.Explained || a.Severity < Medium {
			t.Errorf("%s explained or low: %+v", a.TerminalID, a)
		}
		caught[a.TerminalID] = true
	}
	if len(caught) != 10 {
		t.Errorf("%d jumpers alerted, want 10", len(caught))
	}
}

// TestChangedIncidents: ChangedIncidents reports an incident when it
// opens, each time it grows (once per call, however many fixes grew it),
// and once when it closes, and then never again; its last report is what
// Incidents says.
func TestChangedIncidents(t *testing.T) {
	e := newEngine(t, nil)
	in, _ := spoofedArea(true, nil)
	var reports []Incident
	for round := range slices.Chunk(in, 40) {
		feed(e, round)
		got := e.ChangedIncidents(nil)
		if again := e.ChangedIncidents(nil); len(again) != 0 {
			t.Fatalf("a second call with nothing processed reports %+v", again)
		}
		reports = append(reports, got...)
	}
	incs := e.Incidents()
	if len(incs) != 1 || len(reports) < 3 {
		t.Fatalf("%d incidents, %d reports: want 1 incident, reported open, grown and closed", len(incs), len(reports))
	}
	first, last := reports[0], reports[len(reports)-1]
	if !first.Open || last.Open || last != incs[0] {
		t.Errorf("first report %+v (want open), last %+v (want closed, as Incidents says %+v)", first, last, incs[0])
	}
	for i, r := range reports {
		if r.ID != incs[0].ID || i > 0 && (r == reports[i-1] || r.End.Before(reports[i-1].End)) {
			t.Errorf("report %d %+v after %+v: want the same incident, changed, not ending earlier", i, r, reports[max(i-1, 0)])
		}
		if i < len(reports)-1 && !r.Open {
			t.Errorf("report %d is closed before the last", i)
		}
	}
	feed(e, in[len(in)-40:])
	if got := e.ChangedIncidents(nil); len(got) != 0 {
		t.Errorf("a closed incident reported again: %+v", got)
	}
}

// TestQueueOnIncident: a Queue hands the incidents' changes to the sink
// set by OnIncident, the first version open, the last closed as the engine
// has it.
func TestQueueOnIncident(t *testing.T) {
	e := newEngine(t, func(c *Config) { c.QueueSize = 40 })
	q := NewQueue(e)
	in, _ := spoofedArea(true, nil)
	var got []Incident
	q.OnIncident(func(x Incident) { got = append(got, x) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx, func(Alert) {}) }()
	for rest := in; len(rest) > 0; runtime.Gosched() {
		rest = rest[q.OfferBatch(rest):] // what a full queue refuses is offered again
	}
	q.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	incs := e.Incidents()
	if len(incs) != 1 || len(got) < 2 || got[len(got)-1] != incs[0] || incs[0].Open || !got[0].Open {
		t.Fatalf("sink got %d versions %+v; engine has %+v", len(got), got, incs)
	}
	if s := q.Stats(); s.Engine.Observations != uint64(len(in)) {
		t.Fatalf("the engine processed %d of %d", s.Engine.Observations, len(in))
	}
}

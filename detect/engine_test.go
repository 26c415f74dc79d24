package detect

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

// hopper is a residential terminal that jumps between Warsaw and a point
// 500 km east every step: impossible travel at every fix.
func hopper(n int, start time.Time, step time.Duration) []Observation {
	term := terminal("T-HOP", "residential", "PL")
	farLat, farLon := dest(warsawLat, warsawLon, 90, 500)
	var out []Observation
	for i := range n {
		lat, lon := warsawLat, warsawLon
		if i%2 == 1 {
			lat, lon = farLat, farLon
		}
		out = append(out, obs(term, start.Add(time.Duration(i)*step), lat, lon))
	}
	return out
}

func TestDeduplication(t *testing.T) {
	e := newEngine(t, func(c *Config) { c.Disabled = []Detector{PositionJump} })
	// 31 fixes 10 s apart: 30 firings, from 10 s to 300 s.
	got := feed(e, hopper(31, t0, 10*time.Second))
	if n := len(distinct(got)); n != 1 {
		t.Fatalf("%d distinct alerts, want 1", n)
	}
	// Emitted when opened, then at most once a minute (UpdateEvery): at 10,
	// 70, 130, 190 and 250 s.
	if len(got) != 5 {
		t.Errorf("emitted %d times, want 5", len(got))
	}
	last := got[len(got)-1]
	if last.Count != 25 || !last.FirstSeen.Equal(t0.Add(10*time.Second)) || !last.LastSeen.Equal(t0.Add(250*time.Second)) {
		t.Errorf("last emission: count %d, %v..%v; want 25, from 10 s to 250 s", last.Count, last.FirstSeen, last.LastSeen)
	}
	if len(last.Evidence) != EvidenceMax {
		t.Errorf("%d pieces of evidence, want the last %d", len(last.Evidence), EvidenceMax)
	}
	if s := e.Stats(); s.Alerts != 1 || s.Updates != 29 {
		t.Errorf("stats: %d opened, %d updates; want 1 and 29", s.Alerts, s.Updates)
	}
	// Flush gives the firings held back, once.
	flushed := e.Flush()
	if len(flushed) != 1 || flushed[0].ID != last.ID || flushed[0].Count != 30 || !flushed[0].LastSeen.Equal(t0.Add(300*time.Second)) {
		t.Errorf("flush: %+v, want the alert with count 30, last seen at 300 s", flushed)
	}
	if again := e.Flush(); len(again) != 0 {
		t.Errorf("a second flush gave %d alerts, want 0", len(again))
	}
	// After the cooldown (an hour), the same behaviour opens a new alert.
	later := distinct(feed(e, hopper(3, t0.Add(2*time.Hour), 10*time.Second)[1:]))
	if len(later) != 1 || later[0].ID == last.ID || later[0].Count != 2 {
		t.Errorf("after the cooldown: %d alerts, id %q (was %q), count %d; want one new alert, fired twice", len(later), later[0].ID, last.ID, later[0].Count)
	}
}

func TestSeverityRiseIsEmitted(t *testing.T) {
	// Denied attempts every 6 s in Ukraine without a verification, by a
	// terminal registered there: the 5th opens an alert with score 0.4
	// (low), the 10th raises it to 0.6 (medium, for the rate), within a
	// minute and still emitted.
	term := terminal("T-UA", "residential", "UA")
	e := newEngine(t, nil)
	var scores []float64
	for i := range 12 {
		o := obs(term, t0.Add(time.Duration(i)*6*time.Second), kyivLat, kyivLon).deny(policy.VerificationRequired, "ua-mod-whitelist", "UA", "UA")
		for _, a := range e.Process(&o) {
			scores = append(scores, a.Score)
		}
	}
	if fmt.Sprint(scores) != "[0.4 0.6]" {
		t.Errorf("emitted scores %v, want [0.4 0.6]", scores)
	}
}

func TestDisabled(t *testing.T) {
	e := newEngine(t, func(c *Config) { c.Disabled = []Detector{ImpossibleTravel, PositionJump} })
	if got := feed(e, hopper(10, t0, time.Minute)); len(got) != 0 {
		t.Errorf("disabled detectors raised %v", detectors(got))
	}
}

func TestIgnored(t *testing.T) {
	term := terminal("T-1", "residential", "PL")
	unknown := obs(term, t0, warsawLat, warsawLon)
	unknown.Terminal = nil
	invalid := obs(term, t0, 91, 0)
	invalid.Decision = policy.Decision{Reason: policy.PositionInvalid, Rule: "position"}
	good := obs(term, t0.Add(time.Minute), warsawLat, warsawLon)
	same := good
	older := obs(term, t0, warsawLat, warsawLon)
	e := newEngine(t, nil)
	feed(e, []Observation{unknown, invalid, good, same, older})
	if s := e.Stats(); s.Observations != 5 || s.Ignored != 4 || s.Terminals != 1 {
		t.Errorf("stats %+v, want 5 observations, 4 ignored, 1 terminal", s)
	}
}

func TestEvictsLeastRecentlySeen(t *testing.T) {
	e := newEngine(t, func(c *Config) { c.MaxTerminals = 3 })
	at := t0
	see := func(id string) {
		at = at.Add(time.Second)
		o := obs(terminal(id, "residential", "PL"), at, warsawLat, warsawLon)
		e.Process(&o)
	}
	for _, id := range []string{"A", "B", "C", "A", "D", "E"} {
		see(id)
	}
	// B then C were the least recently seen when D and E came.
	var kept []string
	for si := e.head; si >= 0; si = e.links[si].next {
		kept = append(kept, e.states[si].id)
	}
	if fmt.Sprint(kept) != "[E D A]" {
		t.Errorf("kept %v (most recent first), want [E D A]", kept)
	}
	if s := e.Stats(); s.Evictions != 2 || s.Terminals != 3 {
		t.Errorf("stats %+v, want 2 evictions, 3 terminals", s)
	}
}

func TestEvictionDropsOpenAlerts(t *testing.T) {
	e := newEngine(t, func(c *Config) { c.MaxTerminals = 1 })
	feed(e, hopper(2, t0, time.Minute))
	if len(e.open) != 1 {
		t.Fatalf("%d open alerts, want 1", len(e.open))
	}
	o := obs(terminal("T-OTHER", "residential", "PL"), t0, warsawLat, warsawLon)
	e.Process(&o)
	if len(e.open) != 0 {
		t.Errorf("%d open alerts after the terminal was forgotten, want 0", len(e.open))
	}
}

func TestStateSize(t *testing.T) {
	// A terminal's state is what bounds memory: keep it small.
	if n := unsafe.Sizeof(termState{}); n > 560 {
		t.Errorf("termState is %d bytes, want at most 560", n)
	}
}

// TestBoundedMemory feeds a million distinct terminals, each seen once at
// a random position, to an engine that follows at most 100,000: the
// engine forgets 900,000 of them, and its heap stays what it was when it
// was first full.
func TestBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("a million terminals")
	}
	const total, limit = 1_000_000, 100_000
	e := newEngine(t, func(c *Config) { c.MaxTerminals = limit; c.Integrity.CloneFilterBits = 16 })
	rng := rand.New(rand.NewPCG(7, 7))
	term := &skyfence.Terminal{Plan: "residential", Country: "PL", Status: skyfence.Active}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var full uint64
	for i := range total {
		if i == 2*limit {
			full = heap()
		}
		term.ID = fmt.Sprintf("T-%07d", i)
		o := obs(term, t0.Add(time.Duration(i)*time.Millisecond), rng.Float64()*170-85, rng.Float64()*360-180)
		e.Process(&o)
	}
	end := heap()
	s := e.Stats()
	if s.Terminals != limit || s.Evictions != total-limit || len(e.index) != limit || len(e.states) != limit {
		t.Errorf("stats %+v, want %d terminals and %d evictions", s, limit, total-limit)
	}
	t.Logf("heap when first full (x2): %.1f MB, after %d terminals: %.1f MB", float64(full)/1e6, total, float64(end)/1e6)
	if end > full+full/4 {
		t.Errorf("heap grew from %.1f MB to %.1f MB", float64(full)/1e6, float64(end)/1e6)
	}
	if perTerminal := float64(end) / limit; perTerminal > 1500 {
		t.Errorf("%.0f bytes per terminal followed, want at most 1500", perTerminal)
	}
}

// mixed is a reproducible stream of n observations from terminals
// terminals, with bad actors of every kind among them.
func mixed(seed uint64, terminals, n int) []Observation {
	rng := rand.New(rand.NewPCG(seed, seed))
	plans := []string{"residential", "roam", "maritime", "aviation", "sponsored"}
	type tstate struct {
		term     *skyfence.Terminal
		lat, lon float64
		heading  float64
		kind     int
	}
	ts := make([]tstate, terminals)
	for i := range ts {
		term := terminal(fmt.Sprintf("T-%05d", i), plans[rng.IntN(len(plans))], "PL")
		ts[i] = tstate{term: term, lat: 49 + rng.Float64()*5, lon: 15 + rng.Float64()*20, heading: rng.Float64() * 360, kind: rng.IntN(20)}
	}
	out := make([]Observation, 0, n)
	at := t0
	for range n {
		at = at.Add(10 * time.Millisecond)
		s := &ts[rng.IntN(terminals)]
		o := obs(s.term, at, s.lat, s.lon)
		switch s.kind {
		case 0: // hops 500 km
			if rng.IntN(2) == 0 {
				o.Fix.Lat, o.Fix.Lon = dest(s.lat, s.lon, 90, 500)
			}
		case 1: // embargoed
			o = o.deny(policy.RegionEmbargoed, "status:RU", "RU", "RU")
		case 2: // a drone
			s.heading += 120
			s.lat, s.lon = dest(s.lat, s.lon, s.heading, 0.2)
			o.Fix.Lat, o.Fix.Lon, o.Fix.AltM = s.lat, s.lon, 100
		case 3: // a clone
			o.Fix.Lat, o.Fix.Lon = 50, 30
		case 4: // unverified in a cluster
			o = o.deny(policy.VerificationRequired, "ua-mod-whitelist", "UA", "UA")
			o.Fix.Lat, o.Fix.Lon = 47.81+rng.Float64()*0.01, 35.11+rng.Float64()*0.01
		case 5: // a wrong cell
			o.Fix.ServingCell = "c400.600"
		case 6: // ahead of time
			if rng.IntN(10) == 0 {
				o.Fix.Time = o.Fix.Time.Add(time.Hour)
			}
		default: // jitter where it stands
			o.Fix.Lat += rng.NormFloat64() * 0.0003
			o.Fix.Lon += rng.NormFloat64() * 0.0003
		}
		out = append(out, o)
	}
	return out
}

func TestDeterminism(t *testing.T) {
	stream := mixed(42, 500, 100_000)
	run := func() ([]byte, Stats) {
		e := newEngine(t, nil)
		b, err := json.Marshal(feed(e, stream))
		if err != nil {
			t.Fatal(err)
		}
		return b, e.Stats()
	}
	a, sa := run()
	b, sb := run()
	if string(a) != string(b) || sa != sb {
		t.Fatalf("two runs over the same stream differ: %d and %d bytes of alerts, stats %+v and %+v", len(a), len(b), sa, sb)
	}
	var alerts []Alert
	if err := json.Unmarshal(a, &alerts); err != nil {
		t.Fatal(err)
	}
	for d := Detector(0); d < numDetectors; d++ {
		if d == OriginPresence { // needs hours; the stream lasts 17 minutes
			continue
		}
		if len(of(alerts, d)) == 0 {
			t.Errorf("the mixed stream raised no %s alert", d)
		}
	}
	t.Logf("%d alerts emitted, stats %+v", len(alerts), sa)
}

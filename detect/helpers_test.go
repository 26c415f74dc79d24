package detect

import (
	"math"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

// t0 is when every hand-built track starts.
var t0 = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

// Places used by the tracks.
const (
	warsawLat, warsawLon     = 52.2297, 21.0122
	kyivLat, kyivLon         = 50.4501, 30.5234
	moscowLat, moscowLon     = 55.7558, 37.6173
	zaporizhLat, zaporizhLon = 47.8388, 35.1396
)

func newEngine(t testing.TB, change func(*Config)) *Engine {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Integrity.CloneFilterBits = 12 // small tests need no more
	if change != nil {
		change(&cfg)
	}
	e, err := New(cfg, Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func terminal(id, plan, home string) *skyfence.Terminal {
	return &skyfence.Terminal{ID: id, Plan: plan, Country: home, Status: skyfence.Active}
}

// obs is a fix of term at time at, allowed in the terminal's home country
// on land; change it with the methods below.
func obs(term *skyfence.Terminal, at time.Time, lat, lon float64) Observation {
	return Observation{
		Terminal: term,
		Fix:      skyfence.Fix{TerminalID: term.ID, Time: at, Lat: lat, Lon: lon, SpeedKmh: skyfence.NoSpeed},
		Decision: policy.Decision{Allow: true, Reason: policy.Ok, Country: term.Country, Land: true, Located: true},
		Received: at,
	}
}

func (o Observation) alt(m float64) Observation { o.Fix.AltM = m; return o }

func (o Observation) in(country string) Observation { o.Decision.Country = country; return o }

func (o Observation) deny(r policy.Reason, rule, region, country string) Observation {
	o.Decision.Allow, o.Decision.Reason, o.Decision.Rule, o.Decision.Region, o.Decision.Country = false, r, rule, region, country
	return o
}

// feed runs e over obs in order and returns every alert emitted.
func feed(e *Engine, obs []Observation) []Alert {
	var out []Alert
	for i := range obs {
		out = append(out, e.Process(&obs[i])...)
	}
	return out
}

// of returns the alerts of detector d.
func of(alerts []Alert, d Detector) []Alert {
	var out []Alert
	for _, a := range alerts {
		if a.Detector == d {
			out = append(out, a)
		}
	}
	return out
}

// distinct returns the last emission of each alert, by id, in the order
// they opened.
func distinct(alerts []Alert) []Alert {
	at := map[string]int{}
	var out []Alert
	for _, a := range alerts {
		if i, ok := at[a.ID]; ok {
			out[i] = a
			continue
		}
		at[a.ID] = len(out)
		out = append(out, a)
	}
	return out
}

// detectors lists the distinct detectors of alerts, for failure messages.
func detectors(alerts []Alert) []string {
	seen := map[Detector]bool{}
	var out []string
	for _, a := range alerts {
		if !seen[a.Detector] {
			seen[a.Detector] = true
			out = append(out, a.Detector.String()+": "+a.Summary)
		}
	}
	return out
}

// dest is the position km from (lat, lon) on the given heading (degrees
// clockwise from north), on a sphere.
func dest(lat, lon, headingDeg, km float64) (float64, float64) {
	const r = math.Pi / 180
	d := km / 6371.0088
	p1, l1, h := lat*r, lon*r, headingDeg*r
	p2 := math.Asin(math.Sin(p1)*math.Cos(d) + math.Cos(p1)*math.Sin(d)*math.Cos(h))
	l2 := l1 + math.Atan2(math.Sin(h)*math.Sin(d)*math.Cos(p1), math.Cos(d)-math.Sin(p1)*math.Sin(p2))
	return p2 / r, l2 / r
}

// path is a track of term from (lat, lon): one fix every step, moving at
// kmh on the heading headings[i] before fix i+1, at altitude altM.
func path(term *skyfence.Terminal, start time.Time, lat, lon float64, step time.Duration, kmh, altM float64, headings []float64) []Observation {
	out := []Observation{obs(term, start, lat, lon).alt(altM)}
	at := start
	for _, h := range headings {
		at = at.Add(step)
		lat, lon = dest(lat, lon, h, kmh*step.Hours())
		out = append(out, obs(term, at, lat, lon).alt(altM))
	}
	return out
}

// repeat returns n copies of v.
func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

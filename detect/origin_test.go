package detect

import (
	"fmt"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

// every returns n fixes of term at (lat, lon), step apart from start,
// each changed by f.
func every(term *skyfence.Terminal, start time.Time, step time.Duration, n int, lat, lon float64, f func(Observation) Observation) []Observation {
	var out []Observation
	for i := range n {
		out = append(out, f(obs(term, start.Add(time.Duration(i)*step), lat, lon)))
	}
	return out
}

func TestOriginDenied(t *testing.T) {
	pl := terminal("T-PL", "roam", "PL")
	ua := terminal("T-UA", "roam", "UA")
	embargoed := func(o Observation) Observation {
		return o.deny(policy.RegionEmbargoed, "status:RU", "RU", "RU")
	}
	unverified := func(o Observation) Observation {
		return o.deny(policy.VerificationRequired, "ua-mod-whitelist", "UA", "UA")
	}
	cases := []struct {
		name      string
		track     []Observation
		wantAt    int // index of the fix that opens the alert; -1 for none
		wantScore float64
	}{
		{"5 denied attempts in Russia in 20 min, registered in Poland",
			every(pl, t0, 5*time.Minute, 5, moscowLat, moscowLon, embargoed), 4, 0.8},
		{"10 in 45 min: the rate adds to the score",
			every(pl, t0, 5*time.Minute, 10, moscowLat, moscowLon, embargoed), 4, 1},
		{"4 denied attempts in Russia",
			every(pl, t0, 5*time.Minute, 4, moscowLat, moscowLon, embargoed), -1, 0},
		{"5 denied attempts, 20 min apart: not within an hour",
			every(pl, t0, 20*time.Minute, 5, moscowLat, moscowLon, embargoed), -1, 0},
		{"unverified in Ukraine, registered in Poland",
			every(pl, t0, time.Minute, 5, kyivLat, kyivLon, unverified), 4, 0.6},
		{"unverified in Ukraine, registered there",
			every(ua, t0, time.Minute, 5, kyivLat, kyivLon, unverified), 4, 0.4},
		{"allowed at home, often",
			every(pl, t0, time.Minute, 50, warsawLat, warsawLon, func(o Observation) Observation { return o }), -1, 0},
		{"denied for speed, not for where",
			every(pl, t0, time.Minute, 10, warsawLat, warsawLon, func(o Observation) Observation {
				return o.deny(policy.SpeedLimit, "plan:roam", "", "PL")
			}), -1, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, nil)
			for i := range c.track {
				got := of(e.Process(&c.track[i]), OriginDenied)
				if i < c.wantAt || c.wantAt < 0 {
					if len(got) != 0 {
						t.Fatalf("fix %d raised origin_denied, want none before fix %d", i, c.wantAt)
					}
					continue
				}
				if i > c.wantAt {
					continue
				}
				if len(got) != 1 {
					t.Fatalf("fix %d raised %d origin_denied alerts, want 1", i, len(got))
				}
				a := got[0]
				if a.Value != 5 || a.Limit != 5 {
					t.Errorf("value %v limit %v, want 5 attempts over a limit of 5", a.Value, a.Limit)
				}
				last := a.Evidence[len(a.Evidence)-1]
				d := c.track[i].Decision
				if a.Rule != d.Rule || a.Region != d.Region || last.Reason != d.Reason || last.Rule != d.Rule {
					t.Errorf("alert rule %q region %q, evidence %+v; want the decision's %q %q %v", a.Rule, a.Region, last, d.Rule, d.Region, d.Reason)
				}
				if len(a.Evidence) != 1 {
					t.Errorf("%d pieces of evidence, want 1 (the terminal has not moved)", len(a.Evidence))
				}
			}
			if c.wantAt < 0 {
				return
			}
			final := e.open[alertKey{e.index[c.track[0].Terminal.ID], OriginDenied}]
			if final.Score != c.wantScore {
				t.Errorf("score %v, want %v", final.Score, c.wantScore)
			}
		})
	}
}

func TestOriginPresence(t *testing.T) {
	de := terminal("T-DE", "roam", "DE")
	verified := terminal("T-DE-V", "roam", "DE")
	verified.Verifications = []skyfence.Verification{{Region: "TR", Authority: "TR-BTK", VerifiedAt: t0.Add(-time.Hour)}}
	tr := terminal("T-TR", "roam", "TR")
	const istLat, istLon = 41.0082, 28.9784
	inTurkey := func(o Observation) Observation { return o.in("TR") }
	restricted := func(c *Config) { c.Origin.RestrictedRegions = []string{"TR"} }
	cases := []struct {
		name   string
		change func(*Config)
		track  []Observation
		want   int // fix that opens the alert; -1 for none
	}{
		{"registered in Germany, 7 h in a restricted country",
			restricted, every(de, t0, 30*time.Minute, 15, istLat, istLon, inTurkey), 12},
		{"the same with a verification for it",
			restricted, every(verified, t0, 30*time.Minute, 15, istLat, istLon, inTurkey), -1},
		{"registered there",
			restricted, every(tr, t0, 30*time.Minute, 15, istLat, istLon, inTurkey), -1},
		{"the country not restricted",
			nil, every(de, t0, 30*time.Minute, 15, istLat, istLon, inTurkey), -1},
		{"fixes 3 h apart break the presence",
			restricted, every(de, t0, 3*time.Hour, 5, istLat, istLon, inTurkey), -1},
		// Embargoed every hour: too rare for origin_denied, but sustained.
		{"denied once an hour in Russia for 7 h",
			nil, every(de, t0, time.Hour, 8, moscowLat, moscowLon, func(o Observation) Observation {
				return o.deny(policy.RegionEmbargoed, "status:RU", "RU", "RU")
			}), 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, c.change)
			opened := -1
			for i := range c.track {
				for _, a := range e.Process(&c.track[i]) {
					if a.Detector == OriginDenied {
						t.Fatalf("fix %d raised origin_denied", i)
					}
					if a.Detector == OriginPresence && opened < 0 {
						opened = i
						if a.Value != 6 || a.Limit != 6 {
							t.Errorf("value %v h limit %v h, want 6 and 6", a.Value, a.Limit)
						}
					}
				}
			}
			if opened != c.want {
				t.Errorf("origin_presence opened at fix %d, want %d", opened, c.want)
			}
		})
	}
}

func TestRestrictedZone(t *testing.T) {
	// A terminal registered in Poland, allowed in an occupied zone (say it
	// is exempt), watched by zone, for 7 h.
	pl := terminal("T-PL", "roam", "PL")
	e := newEngine(t, func(c *Config) { c.Origin.RestrictedRegions = []string{"zone:occupied-ua"} })
	track := every(pl, t0, 30*time.Minute, 15, zaporizhLat, zaporizhLon, func(o Observation) Observation {
		o.Decision.Country, o.Decision.Zones = "UA", []string{"kherson-front", "occupied-ua"}
		return o
	})
	if got := of(feed(e, track), OriginPresence); len(got) == 0 {
		t.Fatal("no origin_presence in a restricted zone")
	}
}

func TestCluster(t *testing.T) {
	unverified := func(o Observation) Observation {
		return o.deny(policy.VerificationRequired, "ua-mod-whitelist", "UA", "UA")
	}
	// n terminals, each reporting once, a minute apart, spread east by
	// spacingKm (the cells are 0.05 degrees, about 3.3 km of longitude here).
	group := func(n int, spacingKm float64, f func(Observation) Observation) []Observation {
		var out []Observation
		for i := range n {
			term := terminal(fmt.Sprintf("T-%02d", i), "roam", "PL")
			lat, lon := dest(zaporizhLat, zaporizhLon+0.001, 90, spacingKm*float64(i))
			out = append(out, f(obs(term, t0.Add(time.Duration(i)*time.Minute), lat, lon)))
		}
		return out
	}
	cases := []struct {
		name  string
		track []Observation
		want  int
	}{
		{"6 unverified terminals within 500 m", group(6, 0.1, unverified), 6},
		{"4 unverified terminals", group(4, 0.1, unverified), 0},
		{"6 unverified terminals 10 km apart", group(6, 10, unverified), 0},
		{"6 allowed terminals", group(6, 0.1, func(o Observation) Observation { return o.in("UA") }), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := distinct(of(feed(newEngine(t, nil), c.track), Cluster))
			if len(got) != c.want {
				t.Fatalf("%d cluster alerts, want %d", len(got), c.want)
			}
			if c.want == 0 {
				return
			}
			a := got[len(got)-1]
			if a.Value != 6 || len(a.Related) != 5 || a.Group != "grid:47.8,35.1+0.05" {
				t.Errorf("last alert: value %v, %d related, group %q; want 6, 5 and the cell at 47.8, 35.1", a.Value, len(a.Related), a.Group)
			}
		})
	}
}

func TestOverflightIsNotUse(t *testing.T) {
	// An airliner crossing Russia at 11 km is denied at every fix, but is
	// not using service in Russia; the same terminal at 500 m is.
	avi := terminal("T-AVI", "aviation", "US")
	over := func(altM float64) []Observation {
		return every(avi, t0, time.Minute, 10, moscowLat, moscowLon, func(o Observation) Observation {
			return o.alt(altM).deny(policy.RegionEmbargoed, "status:RU", "RU", "RU")
		})
	}
	if got := feed(newEngine(t, nil), over(11000)); len(got) != 0 {
		t.Errorf("an overflight at 11 km raised %v", detectors(got))
	}
	if got := of(feed(newEngine(t, nil), over(500)), OriginDenied); len(got) == 0 {
		t.Error("denied attempts at 500 m raised no origin_denied")
	}
}

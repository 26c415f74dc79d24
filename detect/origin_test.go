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
		{"2 denied attempts in Russia 15 s apart, registered in Poland",
			every(pl, t0, 15*time.Second, 2, moscowLat, moscowLon, embargoed), 1, 0.8},
		{"4 in 45 min: the rate adds to the score",
			every(pl, t0, 15*time.Minute, 4, moscowLat, moscowLon, embargoed), 1, 1},
		{"1 denied attempt in Russia",
			every(pl, t0, 5*time.Minute, 1, moscowLat, moscowLon, embargoed), -1, 0},
		{"3 denied attempts, 2 h apart: not within an hour",
			every(pl, t0, 2*time.Hour, 3, moscowLat, moscowLon, embargoed), -1, 0},
		{"unverified in Ukraine, registered in Poland",
			every(pl, t0, 15*time.Second, 2, kyivLat, kyivLon, unverified), 1, 0.6},
		{"unverified in Ukraine, registered there",
			every(ua, t0, 15*time.Second, 2, kyivLat, kyivLon, unverified), 1, 0.4},
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
				if a.Value != 2 || a.Limit != 2 {
					t.Errorf("value %v limit %v, want 2 attempts over a limit of 2", a.Value, a.Limit)
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
		// Embargoed every 90 minutes: too rare for origin_denied, but
		// sustained.
		{"denied every 90 minutes in Russia for 7.5 h",
			nil, every(de, t0, 90*time.Minute, 6, moscowLat, moscowLon, func(o Observation) Observation {
				return o.deny(policy.RegionEmbargoed, "status:RU", "RU", "RU")
			}), 4},
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

// sailing returns n fixes of term every 15 s, denied in the Black Sea's
// restricted waters, moving east at kmh (and saying so), from (lat, lon).
func sailing(term *skyfence.Terminal, n int, kmh float64, lat, lon float64) []Observation {
	var out []Observation
	for i := range n {
		plat, plon := dest(lat, lon, 90, kmh*float64(i)/240)
		o := obs(term, t0.Add(time.Duration(i)*15*time.Second), plat, plon).deny(policy.NoServiceZone, "black-sea", "zone:black-sea-restricted", "international")
		o.Decision.Land, o.Decision.Zones, o.Decision.SpeedKmh = false, []string{"black-sea-restricted"}, kmh
		o.Fix.SpeedKmh = kmh
		out = append(out, o)
	}
	return out
}

func TestPassingThrough(t *testing.T) {
	// Ships sail through waters where service is off; a terminal that
	// stays there, or only claims to move, is using it there.
	const seaLat, seaLon = 44.5, 32.5
	cases := []struct {
		name  string
		track []Observation
		want  int // fix that opens origin_denied; -1 for none
	}{
		{"a ship at 20 km/h for an hour", sailing(terminal("T-SHIP", "maritime", "TR"), 240, 20, seaLat, seaLon), -1},
		{"a ship at 35 km/h for an hour", sailing(terminal("T-SHIP", "maritime", "TR"), 240, 35, seaLat, seaLon), -1},
		{"a ship at anchor there", sailing(terminal("T-SHIP", "maritime", "TR"), 10, 0, seaLat, seaLon), 1},
		{"a boat drifting at 5 km/h", sailing(terminal("T-SHIP", "maritime", "TR"), 10, 5, seaLat, seaLon), 1},
	}
	// A terminal that claims 20 km/h standing still: its first fix vouches
	// for 72 s (200 m at 10 km/h), then its attempts count.
	liar := sailing(terminal("T-LIAR", "maritime", "TR"), 10, 20, seaLat, seaLon)
	for i := range liar {
		liar[i].Fix.Lat, liar[i].Fix.Lon = seaLat, seaLon
	}
	cases = append(cases, struct {
		name  string
		track []Observation
		want  int
	}{"claims 20 km/h, does not move", liar, 6})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, nil)
			opened := -1
			for i := range c.track {
				if got := of(e.Process(&c.track[i]), OriginDenied); len(got) > 0 && opened < 0 {
					opened = i
				}
			}
			if opened != c.want {
				t.Errorf("origin_denied opened at fix %d, want %d", opened, c.want)
			}
		})
	}
	// Six ships passing through one cell within the hour make no cluster;
	// six boats lying there do.
	for _, kmh := range []float64{30, 0} {
		e := newEngine(t, nil)
		var n int
		for k := range 6 {
			n += len(of(feed(e, sailing(terminal(fmt.Sprintf("T-SHIP-%d", k), "maritime", "TR"), 8, kmh, seaLat, seaLon)), Cluster))
		}
		if kmh > 0 && n != 0 || kmh == 0 && n == 0 {
			t.Errorf("6 ships at %v km/h in one cell raised %d cluster alerts", kmh, n)
		}
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

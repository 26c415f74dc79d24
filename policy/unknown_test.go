package policy

import (
	"strings"
	"testing"
)

// unknownScenario is testdata/unknown.yaml: Germany, Ukraine, Russia and
// the frontline corridor fail open; France, the Kherson front and the
// logistics route (as high as the corridor) fail closed; every other
// region says nothing.
func unknownScenario(t testing.TB) *Snapshot {
	t.Helper()
	return fixture(t, "unknown")
}

// knownOnly is unknownScenario without its unknown_terminal settings: no
// region lets an unknown terminal through.
func knownOnly(t testing.TB) *Snapshot {
	t.Helper()
	return fixtureEdited(t, "unknown", func(doc string) string {
		for _, s := range []string{", unknown_terminal: allow", ", unknown_terminal: deny"} {
			doc = strings.ReplaceAll(doc, s, "")
		}
		if strings.Contains(doc, "unknown_terminal:") {
			t.Fatal("testdata/unknown.yaml has an unknown_terminal setting knownOnly does not remove")
		}
		return doc
	})
}

// A terminal the authorizer does not know is decided by the regions'
// unknown_terminal settings: where one allows, the position alone decides
// (statuses, no_service rules, speed caps: never the checks that need the
// terminal's record); where one denies, or none says anything, it is
// unknown_terminal.
func TestDecideUnknownTerminal(t *testing.T) {
	s := unknownScenario(t)
	tests := []struct {
		name         string
		f            fixAt
		reason       Reason
		rule, region string
	}{
		{"Germany fails open", fixAt{52.52, 13.40, 0}, Ok, "unknown_terminal:DE", "DE"},
		{"Ukraine fails open: its verification is not asked", fixAt{50.45, 30.52, 0}, Ok, "unknown_terminal:UA", "UA"},
		{"Ukraine fails open, but its speed cap holds", fixAt{50.45, 30.52, 90}, SpeedLimit, "ua-speed-cap", "UA"},
		{"Ukraine fails open, the occupied zone still has no service", fixAt{47.1, 37.55, 0}, NoServiceZone, "occupied-no-service", "zone:occupied-ua"},
		{"an embargoed country that fails open is still embargoed", fixAt{55.75, 37.62, 0}, RegionEmbargoed, "status:RU", "RU"},
		{"France fails closed", fixAt{48.86, 2.35, 0}, UnknownTerminal, "unknown_terminal:FR", "FR"},
		{"a zone that fails closed above a country that fails open", fixAt{46.5, 32.6, 0}, UnknownTerminal, "unknown_terminal:zone:kherson-front", "zone:kherson-front"},
		{"a zone that fails open, with its own speed cap", fixAt{47.85, 35.05, 50}, SpeedLimit, "corridor-speed-40", "zone:zaporizhzhia-corridor"},
		{"a zone that fails open, slow", fixAt{47.85, 35.05, 30}, Ok, "unknown_terminal:zone:zaporizhzhia-corridor", "zone:zaporizhzhia-corridor"},
		{"equal priority: deny wins", fixAt{47.85, 35.3, 0}, UnknownTerminal, "unknown_terminal:zone:logistics-route", "zone:logistics-route"},
		{"a country that says nothing: the default, deny", fixAt{52.23, 21.01, 0}, UnknownTerminal, "terminal", ""},
		{"the high seas say nothing", fixAt{35.0, 18.0, 0}, UnknownTerminal, "terminal", ""},
		{"an invalid position comes first", fixAt{91, 13.40, 0}, PositionInvalid, "position", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := s.Decide(nil, nil, fix(tc.f.lat, tc.f.lon, tc.f.kmh))
			if d.Reason != tc.reason || d.Rule != tc.rule || d.Region != tc.region || d.Allow != (tc.reason == Ok) {
				t.Errorf("got %v by %q in %q (allow %v, country %s, zones %v), want %v by %q in %q",
					d.Reason, d.Rule, d.Region, d.Allow, d.Country, d.Zones, tc.reason, tc.rule, tc.region)
			}
		})
	}

	t.Run("known terminals are decided as before", func(t *testing.T) {
		plain := knownOnly(t)
		ua := terminal("ut-1", "roam", "UA")
		for _, f := range []fixAt{{50.45, 30.52, 0}, {52.52, 13.40, 0}, {48.86, 2.35, 0}} {
			var tr Track
			got, want := s.Decide(ua, &tr, fix(f.lat, f.lon, f.kmh)), plain.Decide(ua, &tr, fix(f.lat, f.lon, f.kmh))
			if got.Reason != want.Reason || got.Rule != want.Rule || got.Region != want.Region {
				t.Errorf("%v: got %v by %q, want %v by %q", f, got.Reason, got.Rule, want.Reason, want.Rule)
			}
		}
	})
	t.Run("a policy where no region allows does not locate", func(t *testing.T) {
		d := knownOnly(t).Decide(nil, nil, fix(52.52, 13.40, 0))
		if d.Reason != UnknownTerminal || d.Rule != "terminal" || d.Located {
			t.Errorf("got %v by %q (located %v), want unknown_terminal by \"terminal\", not located", d.Reason, d.Rule, d.Located)
		}
	})
	t.Run("unknown terminals do not allocate", func(t *testing.T) {
		fs := []fixAt{{52.52, 13.40, 0}, {50.45, 30.52, 90}, {46.5, 32.6, 0}, {48.86, 2.35, 0}, {35.0, 18.0, 0}}
		var sink int
		if allocs := testing.AllocsPerRun(20, func() {
			for _, f := range fs {
				sink += int(s.Decide(nil, nil, fix(f.lat, f.lon, f.kmh)).Reason)
			}
		}); allocs != 0 {
			t.Errorf("Decide allocates %v times for unknown terminals, want 0", allocs)
		}
		_ = sink
	})
}

type fixAt struct{ lat, lon, kmh float64 }

func TestUnknownTerminalParse(t *testing.T) {
	_, probs := checkText(t, "skyfence: policy/v1\nplans: {roam: {}}\nregions:\n  TW: {status: coming_soon, unknown_terminal: maybe}\n", "")
	if len(probs) != 1 || !strings.Contains(probs[0], `regions.TW.unknown_terminal: want allow or deny, not "maybe"`) {
		t.Errorf("got %q, want one error naming regions.TW.unknown_terminal", probs)
	}
}

func TestDiffUnknownTerminal(t *testing.T) {
	c := Diff(knownOnly(t), unknownScenario(t), now)
	got := map[string]string{}
	for _, r := range c.Regions {
		got[r.Name] = strings.Join(r.Details, "; ")
	}
	for region, want := range map[string]string{"DE": "unknown_terminal none -> allow", "FR": "unknown_terminal none -> deny"} {
		if got[region] != want {
			t.Errorf("%s: got %q, want %q", region, got[region], want)
		}
	}
}

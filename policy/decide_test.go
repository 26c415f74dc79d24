package policy

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/atlas"
	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/world"
)

var (
	atlasOnce sync.Once
	atlas10m  *atlas.Atlas
)

func testAtlas(t testing.TB) *atlas.Atlas {
	t.Helper()
	atlasOnce.Do(func() {
		d, err := world.Load(world.Res10m)
		if err != nil {
			t.Fatal(err)
		}
		if atlas10m, err = atlas.New(d, geoindex.Options{}); err != nil {
			t.Fatal(err)
		}
	})
	if atlas10m == nil {
		t.Fatal("no atlas")
	}
	return atlas10m
}

func scenario(t testing.TB) *Snapshot {
	t.Helper()
	src, err := Load("../examples/policy/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Compile(src, testAtlas(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fixture compiles the small policy testdata/NAME.yaml, with the zone files
// it names beside it: the few regions, rules and zones a test is about,
// where the example policy (scenario) would hide them among the rest.
func fixture(t testing.TB, name string) *Snapshot {
	t.Helper()
	return fixtureEdited(t, name, nil)
}

// fixtureEdited is fixture with the policy file's text passed through edit
// (nil: as it is), for a variant of a fixture.
func fixtureEdited(t testing.TB, name string, edit func(string) string) *Snapshot {
	t.Helper()
	file := filepath.Join("testdata", name+".yaml")
	src, err := LoadWith(file, func(n string) ([]byte, error) {
		b, err := os.ReadFile(n)
		if err == nil && n == file && edit != nil {
			b = []byte(edit(string(b)))
		}
		return b, err
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Compile(src, testAtlas(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

var now = date("2026-06-15T12:00:00Z")

func verifiedBy(authority, region string, class skyfence.VerificationClass) skyfence.Verification {
	return skyfence.Verification{Region: region, Authority: authority, Class: class, VerifiedAt: date("2025-01-01T00:00:00Z")}
}

func terminal(id, plan, country string, vs ...skyfence.Verification) *skyfence.Terminal {
	return &skyfence.Terminal{ID: id, Plan: plan, Country: country, Status: skyfence.Active, Verifications: vs}
}

func fix(lat, lon, speed float64) skyfence.Fix {
	return skyfence.Fix{Time: now, Lat: lat, Lon: lon, SpeedKmh: speed}
}

func cellFix(lat, lon float64, cell string) skyfence.Fix {
	f := fix(lat, lon, 0)
	f.ServingCell = cell
	return f
}

func TestDecideScenario(t *testing.T) {
	s := scenario(t)
	civil := verifiedBy("UA-MOD", "UA", skyfence.Civil)
	military := verifiedBy("UA-MOD", "UA", skyfence.Military)
	revoked := civil
	revoked.Revoked = true
	expired := civil
	expired.ExpiresAt = date("2026-01-01T00:00:00Z")
	otherAuthority := verifiedBy("UA-SBU", "UA", skyfence.Government)

	uaHome := terminal("ut-ua-1", "residential", "UA", civil)
	uaRoam := terminal("ut-ua-2", "roam", "UA", civil)
	uaMilitary := terminal("ut-ua-3", "roam", "UA", military)
	uaUnverified := terminal("ut-ua-4", "residential", "UA")
	humanitarian := terminal("ut-ua-5", "roam", "UA", civil)
	humanitarian.Groups = []string{"humanitarian"}
	unverifiedAid := terminal("ut-ua-7", "roam", "UA")
	unverifiedAid.Groups = []string{"humanitarian"}
	icrc := terminal("UT-ICRC-0001", "roam", "UA", civil)
	sponsored := terminal("ut-ua-6", "sponsored", "UA", civil)
	deRoam := terminal("ut-de-1", "roam", "DE")
	frHome := terminal("ut-fr-1", "residential", "FR")
	frMaritime := terminal("ut-fr-2", "maritime", "FR")
	grShip := terminal("ut-gr-1", "maritime", "GR")
	usPlane := terminal("ut-us-1", "aviation", "US")
	cmHome := terminal("ut-cm-1", "residential", "CM")
	suspended := terminal("ut-s", "residential", "FR")
	suspended.Status = skyfence.Suspended
	deactivated := terminal("ut-d", "residential", "FR")
	deactivated.Status = skyfence.Deactivated
	inactive := terminal("ut-i", "residential", "FR")
	inactive.Status = skyfence.Inactive
	gold := terminal("ut-g", "gold", "DE")

	var none Track
	today := uint16(dayNumber(now))
	abroad61 := Track{AbroadDay: today - 61}
	abroad10 := Track{AbroadDay: today - 10}
	coastal5 := Track{CoastalDay: today - 1, CoastalRun: 5, CoastalYearDays: 5}
	coastal2 := Track{CoastalDay: today - 1, CoastalRun: 2, CoastalYearDays: 2}
	coastalYear := Track{CoastalDay: today - 10, CoastalYearDays: 60} // left coastal waters since
	coastal30 := Track{CoastalDay: today - 1, CoastalRun: 30, CoastalYearDays: 30}
	// 2 km north of Kyiv's centre one minute ago: 120 km/h.
	justBefore := Track{LastUnixNano: now.Add(-time.Minute).UnixNano(), LastLat: 50.45 - 2/111.2, LastLon: 30.52}

	at := func(f skyfence.Fix, ts string) skyfence.Fix { f.Time = date(ts); return f }
	high := func(f skyfence.Fix, alt float64) skyfence.Fix { f.AltM = alt; return f }

	const (
		kyivLat, kyivLon = 50.45, 30.52
	)
	tests := []struct {
		name     string
		t        *skyfence.Terminal
		tr       Track
		f        skyfence.Fix
		reason   Reason
		rule     string
		exemptBy string
	}{
		// The Ukrainian whitelist: only terminals verified by the defence ministry work.
		{"verified terminal in Kyiv", uaHome, none, fix(kyivLat, kyivLon, 0), Ok, "", ""},
		{"unverified terminal in Kyiv", uaUnverified, none, fix(kyivLat, kyivLon, 0), VerificationRequired, "ua-mod-whitelist", ""},
		{"revoked verification", terminal("r", "residential", "UA", revoked), none, fix(kyivLat, kyivLon, 0), VerificationRequired, "ua-mod-whitelist", ""},
		{"expired verification", terminal("e", "residential", "UA", expired), none, fix(kyivLat, kyivLon, 0), VerificationRequired, "ua-mod-whitelist", ""},
		{"verified by another authority", terminal("o", "residential", "UA", otherAuthority), none, fix(kyivLat, kyivLon, 0), VerificationRequired, "ua-mod-whitelist", ""},
		// Early 2026: "Movement speed is too high" above 75 km/h, to stop drones.
		{"verified roam terminal at 90 km/h", uaRoam, none, fix(kyivLat, kyivLon, 90), SpeedLimit, "ua-speed-cap", ""},
		{"verified roam terminal at 74 km/h", uaRoam, none, fix(kyivLat, kyivLon, 74), Ok, "", ""},
		{"military terminal exempt from the cap", uaMilitary, none, fix(kyivLat, kyivLon, 90), Ok, "", "class"},
		{"speed derived from the previous fix", uaRoam, justBefore, fix(kyivLat, kyivLon, skyfence.NoSpeed), SpeedLimit, "ua-speed-cap", ""},
		// Plans set their own motion limits.
		{"residential plan in motion", terminal("p", "residential", "PL"), none, fix(52.23, 21.01, 30), SpeedLimit, "plan:residential", ""},
		// Embargoed countries: no terminal works inside.
		{"Moscow", deRoam, none, fix(55.75, 37.62, 0), RegionEmbargoed, "status:RU", ""},
		{"Crimea, in Russia's feature in the data", deRoam, none, fix(44.95, 34.10, 0), RegionEmbargoed, "status:RU", ""},
		{"Minsk", deRoam, none, fix(53.9, 27.56, 0), RegionEmbargoed, "status:BY", ""},
		// Service was not enabled off the occupied coast (maritime drones).
		{"restricted waters off Sevastopol", grShip, none, fix(44.50, 33.0, 20), NoServiceZone, "black-sea-no-service", ""},
		// Occupied territory: a no-service zone over Ukraine.
		{"Donetsk", uaHome, none, fix(48.0, 37.8, 0), NoServiceZone, "occupied-no-service", ""},
		{"humanitarian group exempt in Donetsk", humanitarian, none, fix(48.0, 37.8, 0), Ok, "", "group"},
		{"listed ICRC terminal exempt in Donetsk", icrc, none, fix(48.0, 37.8, 0), Ok, "", "terminal"},
		{"exempt from the zone, still bound by Ukraine's whitelist", unverifiedAid, none, fix(48.0, 37.8, 0), VerificationRequired, "ua-mod-whitelist", "group"},
		// Taiwan: "coming soon" on the public map, no licence.
		{"Taipei", deRoam, none, fix(25.03, 121.56, 0), RegionNotAvailable, "status:TW", ""},
		{"Beijing", deRoam, none, fix(39.9, 116.4, 0), RegionNotLicensed, "status:CN", ""},
		{"Lagos, sold out", deRoam, none, fix(6.45, 3.40, 0), RegionNotAvailable, "status:NG", ""},
		// Licences are data: when one lapses the country is not licensed by itself.
		{"Yaounde after the licence lapsed", cmHome, none, fix(3.87, 11.52, 0), RegionNotLicensed, "licence:CM", ""},
		{"Yaounde while licensed", cmHome, none, at(fix(3.87, 11.52, 0), "2025-06-15T12:00:00Z"), Ok, "", ""},
		{"Brasilia, not listed: the default status", deRoam, none, fix(-15.8, -47.9, 0), RegionNotLicensed, "default_status", ""},
		// A temporary measure with a time window, at a higher priority than the occupied zone.
		{"Kherson front during the shutdown", uaHome, none, at(fix(46.6, 32.9, 0), "2026-02-01T00:00:00Z"), NoServiceZone, "kherson-front-shutdown", ""},
		{"Kherson front after the shutdown: the occupied zone decides", uaHome, none, fix(46.6, 32.9, 0), NoServiceZone, "occupied-no-service", ""},
		{"humanitarian terminal during the shutdown: no exemption there", humanitarian, none, at(fix(46.6, 32.9, 0), "2026-02-01T00:00:00Z"), NoServiceZone, "kherson-front-shutdown", ""},
		{"humanitarian terminal after the shutdown", humanitarian, none, fix(46.6, 32.9, 0), Ok, "", "group"},
		// Zones over countries: a zone's speed cap replaces the country's.
		{"frontline corridor caps at 40", uaMilitary, none, fix(47.85, 35.05, 50), SpeedLimit, "corridor-speed-40", ""},
		{"logistics route allows 100 though Ukraine caps 75", uaRoam, none, fix(47.85, 35.6, 100), Ok, "", ""},
		{"equal priority overlap: the lower cap wins", uaRoam, none, fix(47.85, 35.3, 100), SpeedLimit, "corridor-speed-40", ""},
		// About 15,000 donated terminals: sponsored plans for one country.
		{"sponsored terminal in Kyiv", sponsored, none, fix(kyivLat, kyivLon, 0), Ok, "", ""},
		{"sponsored terminal in Warsaw", terminal("sp", "sponsored", "UA"), none, fix(52.23, 21.01, 0), PlanNotAllowed, "sponsored-ua-only", ""},
		{"unknown plan", gold, none, fix(52.52, 13.40, 0), PlanNotAllowed, "sponsored-ua-only", ""},
		// A roam plan limited to 60 days abroad.
		{"German roam terminal in Paris, day 11", deRoam, abroad10, fix(48.86, 2.35, 0), Ok, "", ""},
		{"German roam terminal in Paris, day 62", deRoam, abroad61, fix(48.86, 2.35, 0), RoamingLimit, "roam-60-days", ""},
		{"back home in Berlin after a long trip", deRoam, abroad61, fix(52.52, 13.40, 0), Ok, "", ""},
		{"roam terminal on the high seas, slow", deRoam, abroad10, fix(35.0, 18.0, 20), Ok, "", ""},
		// Maritime plans in motion at sea; aviation plans at airliner speed.
		{"ship at 40 km/h on the high seas", grShip, none, fix(35.0, 18.0, 40), Ok, "", ""},
		{"ship plan at 40 km/h on land", grShip, none, fix(37.98, 23.73, 40), SpeedLimit, "plan:maritime", ""},
		{"airliner over the Atlantic", usPlane, none, high(fix(45, -30, 900), 11000), Ok, "", ""},
		{"airliner over Germany", usPlane, none, high(fix(50.1, 8.7, 900), 11000), Ok, "", ""},
		{"aviation plan at 900 km/h near the ground", usPlane, none, fix(50.1, 8.7, 900), SpeedLimit, "plan:aviation", ""},
		{"airliner over Ukraine: exempt from the whitelist, not the cap", usPlane, none, high(fix(kyivLat, kyivLon, 900), 11000), SpeedLimit, "ua-speed-cap", "plan"},
		// Coastal waters: land plans limited to 5 days in a row and 60 a year.
		{"residential terminal in coastal waters, third day", frHome, coastal2, fix(43.25, 5.30, 0), Ok, "", ""},
		{"residential terminal in coastal waters, sixth day running", frHome, coastal5, fix(43.25, 5.30, 0), RoamingLimit, "coastal-waters", ""},
		{"residential terminal in coastal waters, 61st day this year", frHome, coastalYear, fix(43.25, 5.30, 0), RoamingLimit, "coastal-waters", ""},
		{"maritime plan in coastal waters for a month", frMaritime, coastal30, fix(43.25, 5.30, 5), Ok, "", ""},
		// Terminal facts come first.
		{"suspended terminal", suspended, none, fix(48.86, 2.35, 0), TerminalSuspended, "terminal", ""},
		{"deactivated terminal", deactivated, none, fix(48.86, 2.35, 0), TerminalDeactivated, "terminal", ""},
		{"inactive terminal", inactive, none, fix(48.86, 2.35, 0), TerminalInactive, "terminal", ""},
		{"unknown terminal", nil, none, fix(48.86, 2.35, 0), UnknownTerminal, "terminal", ""},
		// Impossible positions are denied, never a panic.
		{"latitude NaN", frHome, none, fix(math.NaN(), 2.35, 0), PositionInvalid, "position", ""},
		{"latitude 91", frHome, none, fix(91, 2.35, 0), PositionInvalid, "position", ""},
		{"longitude -181", frHome, none, fix(48, -181, 0), PositionInvalid, "position", ""},
		{"infinite speed", frHome, none, fix(48.86, 2.35, math.Inf(1)), PositionInvalid, "position", ""},
		{"no time", frHome, none, skyfence.Fix{Lat: 48.86, Lon: 2.35}, PositionInvalid, "position", ""},
		// Ukraine decides by both positions: a claim in Kyiv served over
		// Belgorod is decided as in Russia.
		{"kyiv served over belgorod", uaMilitary, none, cellFix(50.45, 30.52, skyfence.CellOf(50.60, 36.59)), NetworkPosition, "status:RU", ""},
		{"kyiv in its own cell", uaMilitary, none, cellFix(50.45, 30.52, skyfence.CellOf(50.45, 30.52)), Ok, "", ""},
	}
	seen := map[Reason]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := tc.tr
			d := s.Decide(tc.t, &tr, tc.f)
			if d.Reason != tc.reason || d.Rule != tc.rule || d.Allow != (tc.reason == Ok) {
				t.Errorf("got %v by %q (allow %v, country %s, zones %v, speed %.0f), want %v by %q",
					d.Reason, d.Rule, d.Allow, d.Country, d.Zones, d.SpeedKmh, tc.reason, tc.rule)
			}
			if d.ExemptBy != tc.exemptBy {
				t.Errorf("exempt by %q (rule %q), want %q", d.ExemptBy, d.ExemptRule, tc.exemptBy)
			}
			if d.PolicyVersion != s.Version {
				t.Errorf("policy version %q, want %q", d.PolicyVersion, s.Version)
			}
			if again := s.Decide(tc.t, &tr, tc.f); !sameDecision(again, d) {
				t.Errorf("same inputs, different decision: %+v then %+v", d, again)
			}
			seen[d.Reason] = true
		})
	}
	for _, r := range Reasons() {
		// The example policy requires no cell (not every gateway reports
		// one): TestDecideByNetworkPosition gives cell_unknown.
		if !seen[r] && r != CellUnknown {
			t.Errorf("no case gives reason %v", r)
		}
	}
}

func sameDecision(a, b Decision) bool {
	return slices.Equal(a.Zones, b.Zones) && a.Allow == b.Allow && a.Reason == b.Reason && a.Rule == b.Rule &&
		a.Region == b.Region && a.Country == b.Country && a.Land == b.Land && a.SpeedKmh == b.SpeedKmh &&
		a.ExemptRule == b.ExemptRule && a.ExemptBy == b.ExemptBy && a.PolicyVersion == b.PolicyVersion
}

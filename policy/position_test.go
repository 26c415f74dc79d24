package policy

import (
	"strings"
	"testing"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/zone"
)

// positionPolicy is a small policy: Ukraine available with its position
// setting, Russia embargoed, and a no_service zone around Odesa.
func positionPolicy(t *testing.T, ua string) *Snapshot {
	t.Helper()
	return compileText(t, `skyfence: policy/v1
zones: [{file: zones.geojson}]
plans: {p: {}}
regions:
  RU: {status: embargoed}
  UA:
    status: available
    licence: {authority: NCEC, valid_from: 2020-01-01}
`+ua+`
rules:
  - {id: odesa-off, region: "zone:odesa", no_service: true}
`, `{"type": "FeatureCollection", "features": [{"type": "Feature", "id": "odesa",
 "properties": {"name": "Odesa"},
 "geometry": {"type": "Polygon", "coordinates": [[[30.5, 46.3], [31.0, 46.3], [31.0, 46.7], [30.5, 46.7], [30.5, 46.3]]]}}]}`)
}

// Places of the tests.
const (
	kyivLat, kyivLon   = 50.45, 30.52
	lvivLat, lvivLon   = 49.84, 24.03
	odesaLat, odesaLon = 46.48, 30.73
	// straddle is a cell on the border: its centre (50.125, 36.625) is
	// in Ukraine, its north-east in Russia.
	straddle = "c560.866"
)

func TestDecideByNetworkPosition(t *testing.T) {
	belgorod := skyfence.CellOf(50.60, 36.59)
	cases := []struct {
		name, ua string
		lat, lon float64
		cell     string
		allow    bool
		reason   Reason
		rule     string
		country  string
	}{
		{"claimed: Kyiv served over Belgorod is decided by its claim", "    position: claimed", kyivLat, kyivLon, belgorod, true, Ok, "", "UA"},
		{"network: Kyiv served over Belgorod is decided as in Russia", "    position: network", kyivLat, kyivLon, belgorod, false, NetworkPosition, "status:RU", "RU"},
		{"both: Kyiv served over Belgorod is decided as in Russia", "    position: both", kyivLat, kyivLon, belgorod, false, NetworkPosition, "status:RU", "RU"},
		{"network: a claim inside its own cell is decided by the claim", "    position: network", kyivLat, kyivLon, skyfence.CellOf(kyivLat, kyivLon), true, Ok, "", "UA"},
		{"network: a claim in the zone served over Lviv is decided at Lviv", "    position: network", odesaLat, odesaLon, skyfence.CellOf(lvivLat, lvivLon), true, Ok, "", "UA"},
		{"both: a claim in the zone served over Lviv is decided by the stricter", "    position: both", odesaLat, odesaLon, skyfence.CellOf(lvivLat, lvivLon), false, NoServiceZone, "odesa-off", "UA"},
		{"network: a cell in the zone is decided as in the zone", "    position: network", lvivLat, lvivLon, skyfence.CellOf(odesaLat, odesaLon), false, NetworkPosition, "odesa-off", "UA"},
		{"both: a straddling cell denies by the country it touches", "    position: both", kyivLat, kyivLon, straddle, false, NetworkPosition, "status:RU", "RU"},
		{"both: a claim inside a straddling cell is decided by the claim", "    position: both", 50.125, 36.625, straddle, true, Ok, "", "UA"},
		{"network: no cell falls back to the claim", "    position: network", kyivLat, kyivLon, "", true, Ok, "", "UA"},
		{"network: no cell denied by without_cell", "    position: network\n    without_cell: deny", kyivLat, kyivLon, "", false, CellUnknown, "without_cell:UA", "UA"},
		{"network: a cell of another grid counts as none", "    position: network\n    without_cell: deny", kyivLat, kyivLon, "beam-7", false, CellUnknown, "without_cell:UA", "UA"},
		{"network: a cell with a leading zero is not of the grid", "    position: network", kyivLat, kyivLon, "c0562.866", true, Ok, "", "UA"},
		{"network: a cell off the grid is not of the grid", "    position: network", kyivLat, kyivLon, "c720.1", true, Ok, "", "UA"},
		{"both on international: a claim at sea served over Belgorod", "  international: {status: available, position: both}", 43.0, 34.0, belgorod, false, NetworkPosition, "status:RU", "RU"},
		{"without_cell does not override another denial", "    position: both\n    without_cell: deny", odesaLat, odesaLon, "", false, NoServiceZone, "odesa-off", "UA"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := positionPolicy(t, tc.ua)
			f := fix(tc.lat, tc.lon, 0)
			f.ServingCell = tc.cell
			d := s.Decide(terminal("t", "p", "UA"), nil, f)
			if d.Allow != tc.allow || d.Reason != tc.reason || d.Rule != tc.rule || d.Country != tc.country {
				t.Errorf("got allow %v reason %s rule %q country %s, want %v %s %q %s", d.Allow, d.Reason, d.Rule, d.Country, tc.allow, tc.reason, tc.rule, tc.country)
			}
		})
	}
}

// The example policy decides its embargoed countries' neighbours by both
// positions: a verified Ukrainian terminal claiming Kyiv while served over
// Belgorod is denied as in Russia, with a message saying why.
func TestExamplePolicyNetworkPosition(t *testing.T) {
	s := scenario(t)
	ut := terminal("t", "roam", "UA", verifiedBy("UA-MOD", "UA", skyfence.Military))
	f := fix(kyivLat, kyivLon, 0)
	f.ServingCell = skyfence.CellOf(kyivLat, kyivLon)
	if d := s.Decide(ut, nil, f); !d.Allow {
		t.Fatalf("honest Kyiv fix: %+v", d)
	}
	f.ServingCell = skyfence.CellOf(50.60, 36.59)
	d := s.Decide(ut, nil, f)
	if d.Allow || d.Reason != NetworkPosition || d.Region != "RU" || d.Rule != "status:RU" {
		t.Fatalf("Kyiv over Belgorod: %+v", d)
	}
	if !strings.Contains(d.Message(), "network") {
		t.Errorf("message %q does not say the network decided", d.Message())
	}
	// Minsk's cell under a Polish claim, Tabriz's under a Turkish one.
	for _, c := range []struct{ lat, lon, cellLat, cellLon float64 }{{52.23, 21.01, 53.90, 27.56}, {39.93, 32.86, 38.08, 46.29}} {
		f := fix(c.lat, c.lon, 0)
		f.ServingCell = skyfence.CellOf(c.cellLat, c.cellLon)
		if d := s.Decide(terminal("t", "roam", "UA"), nil, f); d.Reason != NetworkPosition {
			t.Errorf("claim %v,%v over %s: %+v", c.lat, c.lon, f.ServingCell, d)
		}
	}
}

// The gateway is trusted for the cell: one that reports the claimed
// position's cell for a spoofer in Belgorod makes it pass. The cell is
// evidence only as far as the network element that reports it.
func TestGatewayIsTrustedForTheCell(t *testing.T) {
	s := positionPolicy(t, "    position: both")
	f := fix(kyivLat, kyivLon, 0)
	f.ServingCell = skyfence.CellOf(kyivLat, kyivLon)
	if d := s.Decide(terminal("t", "p", "UA"), nil, f); !d.Allow {
		t.Fatalf("a claim with its own cell: %+v", d)
	}
}

func TestParseCell(t *testing.T) {
	for _, id := range []string{"c0.0", "c555.728", "c719.1439", skyfence.CellOf(-90, -180), skyfence.CellOf(90, 180)} {
		r, c, ok := parseCell(id)
		minLat, minLon, _, _, bok := skyfence.CellBounds(id)
		if !ok || !bok || skyfence.CellOf(minLat+0.1, minLon+0.1) != id || float64(r)*skyfence.CellDegrees-90 != minLat || float64(c)*skyfence.CellDegrees-180 != minLon {
			t.Errorf("parseCell(%q) = %d %d %v", id, r, c, ok)
		}
	}
	for _, id := range []string{"", "c", "c1", "c1.", "c.1", "c01.2", "c1.02", "c720.0", "c0.1440", "c1.2x", "d1.2", "c-1.2", "c12345.1", "c1.2.3"} {
		if _, _, ok := parseCell(id); ok {
			t.Errorf("parseCell(%q) ok", id)
		}
		if _, _, _, _, ok := skyfence.CellBounds(id); ok {
			t.Errorf("CellBounds(%q) ok: the grids disagree", id)
		}
	}
}

func TestPositionValidation(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"  UA: {status: embargoed, position: gps}\n", "p.yaml:4:37: error: regions.UA.position: want claimed, network or both, not \"gps\""},
		{"  UA: {status: embargoed, position: both, without_cell: maybe}\n", "regions.UA.without_cell: want claimed or deny, not \"maybe\""},
	} {
		_, err := Parse([]byte("skyfence: policy/v1\nplans: {p: {}}\nregions:\n"+tc.text), "p.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.text, err, tc.want)
		}
	}
	box := []geoindex.Polygon{{{{Lon: 0, Lat: 0}, {Lon: 1, Lat: 0}, {Lon: 1, Lat: 1}, {Lon: 0, Lat: 1}}}}
	src := &Source{File: "p.yaml", Zones: []zone.Zone{{ID: "box", Polygons: box}}, Doc: &Document{Plans: []Plan{{Name: "p"}}, Regions: []Region{
		{Region: "zone:box", Position: PositionNetwork, Pos: Pos{5, 3}},
		{Region: International, Status: Available, Position: PositionBoth, Pos: Pos{6, 3}},
		{Region: "RU", Status: Embargoed, WithoutCell: "deny", Pos: Pos{7, 3}},
	}}}
	probs := Validate(src, testAtlas(t)).Error()
	if strings.Contains(probs, "regions.international") {
		t.Errorf("international may decide by the network's position: %s", probs)
	}
	for _, want := range []string{
		"p.yaml:5:3: error: regions.zone:box: position network is for countries and international",
		"p.yaml:7:3: warning: regions.RU: without_cell says nothing unless position is network or both",
	} {
		if !strings.Contains(probs, want) {
			t.Errorf("problems %q lack %q", probs, want)
		}
	}
}

// FuzzParseCell checks that parseCell reads exactly the ids of the grid
// that skyfence.CellBounds reads, as the same cell.
func FuzzParseCell(f *testing.F) {
	for _, s := range []string{"c562.866", "c0.0", "c719.1439", "c01.2", "beam-7", "c720.0", "c1.2.3", "c-1.2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		r, c, ok := parseCell(id)
		minLat, minLon, _, _, bok := skyfence.CellBounds(id)
		if ok != bok {
			t.Fatalf("parseCell(%q) ok %v, CellBounds ok %v", id, ok, bok)
		}
		if ok && (float64(r)*skyfence.CellDegrees-90 != minLat || float64(c)*skyfence.CellDegrees-180 != minLon) {
			t.Fatalf("parseCell(%q) = %d %d, CellBounds %v %v", id, r, c, minLat, minLon)
		}
	})
}

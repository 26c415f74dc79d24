package policy

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// diffBase is the policy each diff case changes.
const diffBase = `skyfence: policy/v1
plans:
  roam: {max_kmh: {land: 160}}
regions:
  TW: {status: coming_soon}
  DE:
    status: available
    licence: {authority: BNetzA, valid_from: 2021-03-01, valid_until: 2026-01-01}
rules:
  - id: de-speed
    region: DE
    speed_cap_kmh: 75
`

// boxZone is a 1x1 degree box at the equator, in open sea.
const boxZone = `{"type": "FeatureCollection", "features": [{"type": "Feature", "id": "box",
 "properties": {"name": "Box"},
 "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}}]}`

// compileText compiles a policy given as text, with zones.geojson beside
// it if zones is not empty.
func compileText(t *testing.T, policy, zones string) *Snapshot {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(file, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	if zones != "" {
		if err := os.WriteFile(filepath.Join(dir, "zones.geojson"), []byte(zones), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Compile(src, testAtlas(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDiffText(t *testing.T) {
	at := date("2026-06-15T12:00:00Z")
	tests := []struct {
		name     string
		new      string // diffBase changed
		newZones string
		want     string // Text without its first line
	}{
		{
			name: "no change",
			new:  diffBase,
			want: "no changes\n",
		},
		{
			name: "status change",
			new:  strings.Replace(diffBase, "TW: {status: coming_soon}", "TW: {status: embargoed, note: Sanctions.}", 1),
			want: `
public status:
  ~ TW (Taiwan): coming_soon -> embargoed

regions:
  ~ TW: status coming_soon -> embargoed; note added: "Sanctions."
`,
		},
		{
			name: "network position",
			new:  strings.Replace(diffBase, "TW: {status: coming_soon}", "TW: {status: coming_soon, position: both, without_cell: deny}", 1),
			want: `
regions:
  ~ TW: position claimed -> both; without_cell claimed -> deny
`,
		},
		{
			name: "rule change",
			new: strings.Replace(diffBase, "    speed_cap_kmh: 75\n",
				"    speed_cap_kmh: 60\n    from: 2026-02-01\n    exempt: {groups: [humanitarian]}\n", 1),
			want: `
rules:
  ~ de-speed (DE): speed cap 75 -> 60 km/h; time window added: from 2026-02-01; exemptions changed: +groups humanitarian
`,
		},
		{
			name: "rule replaced and plan changed",
			new: strings.NewReplacer("id: de-speed", "id: de-verified",
				"speed_cap_kmh: 75", "require_verification: {authority: DE-BMVg, classes: [military]}",
				"roam: {max_kmh: {land: 160}}", "roam: {max_kmh: {land: 160, air: 900}, activate_abroad: true}\n  fixed: {}",
			).Replace(diffBase),
			want: `
rules:
  - de-speed (DE): speed cap 75 km/h
  + de-verified (DE): requires verification by DE-BMVg (military)

plans:
  + fixed: no speed caps
  ~ roam: air cap none -> 900 km/h; activate_abroad false -> true
`,
		},
		{
			name:     "added zone with no service",
			new:      "zones: [{file: zones.geojson}]\n" + diffBase + "  - {id: box-closed, region: 'zone:box', no_service: true}\n",
			newZones: boxZone,
			want: `
rules:
  + box-closed (zone:box): no service

zones:
  + box: "Box"; area 12,364 km²

service area (approximate: each region whose own service turns off or on counts whole; overlaps, priorities and exemptions are not considered):
  loses service: 12,364 km²
    zone:box 12,364 km²: no such zone -> no_service box-closed
  gains service: 0 km²
`,
		},
		{
			name: "time window added",
			new:  strings.Replace(diffBase, "    speed_cap_kmh: 75\n", "    speed_cap_kmh: 75\n    until: 2026-06-01\n", 1),
			want: `
rules:
  ~ de-speed (DE): time window added: until 2026-06-01
`,
		},
	}
	old := compileText(t, diffBase, "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Diff(old, compileText(t, tt.new, tt.newZones), at)
			header, body, _ := strings.Cut(c.Text(), "\n")
			if want := "policy " + c.OldVersion + " -> " + c.NewVersion + ", compared at 2026-06-15T12:00:00Z"; header != want {
				t.Errorf("header: got %q, want %q", header, want)
			}
			if body != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", body, tt.want)
			}
		})
	}
}

func TestDiffLicenceRenewedGainsCountry(t *testing.T) {
	old := compileText(t, diffBase, "")
	new := compileText(t, strings.Replace(diffBase, "valid_until: 2026-01-01", "valid_until: 2031-01-01", 1), "")

	// Before the old licence lapses, nothing the public sees changes.
	if c := Diff(old, new, date("2025-06-01T00:00:00Z")); len(c.Statuses) != 0 || len(c.Area.Regions) != 0 {
		t.Errorf("before the lapse: got statuses %v, area %v; want none", c.Statuses, c.Area.Regions)
	}

	c := Diff(old, new, date("2026-06-15T12:00:00Z"))
	wantStatus := []StatusChange{{Region: "DE", Name: "Germany", Old: NotLicensed, New: Available, OldRule: "licence:DE", NewRule: "status:DE"}}
	if !reflect.DeepEqual(c.Statuses, wantStatus) {
		t.Errorf("statuses: got %+v, want %+v", c.Statuses, wantStatus)
	}
	wantRegions := []EntryChange{{Kind: Changed, Name: "DE", Details: []string{"licence valid_until 2026-01-01 -> 2031-01-01"}}}
	if !reflect.DeepEqual(c.Regions, wantRegions) {
		t.Errorf("regions: got %+v, want %+v", c.Regions, wantRegions)
	}
	// Germany is 357,588 km² (Destatis).
	if len(c.Area.Regions) != 1 || c.Area.Regions[0].Region != "DE" || !c.Area.Regions[0].Gains ||
		math.Abs(c.Area.GainedKm2-357_588) > 0.02*357_588 || c.Area.LostKm2 != 0 {
		t.Errorf("area: got %+v, want DE gaining about 357,588 km²", c.Area)
	}

	// The change survives JSON, for the review that stores it.
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Change
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, c) {
		t.Errorf("JSON round trip: got %+v, want %+v", back, *c)
	}
	for _, key := range []string{`"old_version"`, `"statuses"`, `"lost_km2"`, `"gains":true`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON %s lacks %s", b, key)
		}
	}
}

func TestDiffInternationalClosing(t *testing.T) {
	old := compileText(t, diffBase, "")
	new := compileText(t, diffBase+"  - {id: no-sea, region: international, no_service: true}\n", "")
	c := Diff(old, new, date("2026-06-15T12:00:00Z"))
	// International is the globe less the countries: about 361 million
	// km² of sea (and the Caspian).
	if len(c.Area.Regions) != 1 || c.Area.Regions[0].Region != International ||
		c.Area.LostKm2 < 355e6 || c.Area.LostKm2 > 365e6 {
		t.Errorf("got %+v, want international losing about 361 million km²", c.Area)
	}
}

package policy

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// checkText runs Check on a policy given as text, with zones.geojson
// beside it if zones is not empty, and returns its problems as strings
// without the directory.
func checkText(t *testing.T, policy, zones string) (*Source, []string) {
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
	src, probs, err := Check(file, testAtlas(t))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range probs {
		rel, _ := filepath.Rel(dir, p.File)
		p.File = rel
		out = append(out, p.String())
	}
	return src, out
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		zones  string
		want   []string
		ok     bool
	}{
		{
			name:   "valid",
			policy: "skyfence: policy/v1\nplans: {roam: {}}\nregions:\n  TW: {status: coming_soon}\n",
			ok:     true,
		},
		{
			name:   "YAML syntax stops everything",
			policy: "skyfence: policy/v1\nplans: [\n",
			want:   []string{"policy.yaml:2:1: error: line 2: did not find expected node content"},
		},
		{
			// The rule without a region and the country with an unknown
			// status are left out of validation: it would only say again
			// that they have no region and no status.
			name: "form and meaning at once, without repeats",
			policy: `skyfence: policy/v1
plans: {roam: {}}
regions:
  TW: {status: closed}
  XQ: {status: embargoed}
rules:
  - {id: nowhere, no_service: true}
  - {id: gold, region: DE, allowed_plans: [gold]}
`,
			want: []string{
				`policy.yaml:4:16: error: regions.TW.status: unknown status "closed" (want one of available, coming_soon, waitlist, not_licensed, embargoed)`,
				`policy.yaml:5:3: error: regions.XQ: unknown region "XQ" (want an ISO 3166-1 alpha-2 code of the built-in boundaries, "international", or "zone:"+zone id)`,
				`policy.yaml:7:5: error: rule "nowhere": missing region`,
				`policy.yaml:8:5: error: rule "gold" allowed_plans: unknown plan "gold"`,
			},
		},
		{
			// The zones of a broken zone file are unknown, so nothing that
			// names a zone not read is checked: neither zone:box, which
			// is in the broken file, nor zone:bax, which may have been
			// meant to be.
			name: "broken zone file",
			policy: `skyfence: policy/v1
zones: [{file: zones.geojson}]
plans: {roam: {}}
regions:
  zone:box: {priority: 20}
rules:
  - {id: closed, region: zone:box, no_service: true}
  - {id: closed2, region: zone:bax, no_service: true}
`,
			zones: `{"type": "FeatureCollection", "features": [{"type": "Feature", "id": "box",
 "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}}]}`,
			want: []string{
				"zones.geojson:/features/0/geometry/coordinates/0/3: error: ring is not closed: the last position must equal the first",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, got := checkText(t, tt.policy, tt.zones)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got problems\n%q\nwant\n%q", got, tt.want)
			}
			if (src != nil) != tt.ok {
				t.Errorf("got source %v, want one: %v", src != nil, tt.ok)
			}
		})
	}
}

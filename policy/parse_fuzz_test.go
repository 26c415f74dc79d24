package policy

import (
	"os"
	"slices"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, and that what it
// accepts is well formed: one aspect per rule, unique rule ids, known
// statuses.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("../examples/policy/policy.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte("skyfence: policy/v1\nplans: {home: {max_kmh: {land: 10}}}\nregions: {UA: {status: available}}\n"))
	f.Add([]byte("skyfence: policy/v1\nrules:\n  - {id: a, region: UA, speed_cap_kmh: 75, no_service: true}\n"))
	f.Add([]byte("{\"skyfence\": \"policy/v1\", \"rules\": [{\"id\": \"x\", \"region\": \"*\", \"allowed_plans\": []}]}"))
	f.Add([]byte("skyfence: policy/v1\nplans: {p: {}}\nregions: {UA: {status: available, position: both, without_cell: deny}, RU: {status: embargoed, position: gps, without_cell: 3}}\n"))
	f.Add([]byte("skyfence: policy/v1\nplans: {p: {}}\nregions: {PL: {status: embargoed, position: network, without_cell: claimed}}\n"))
	f.Add([]byte("skyfence: [\n"))
	f.Add([]byte("skyfence: policy/v1\nauthorities: {UA-MOD: {region: UA, classes: [civil, military]}, X: {classes: [army]}, '': []}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if _, ok := err.(Problems); !ok {
				t.Fatalf("Parse returned %T, want Problems: %v", err, err)
			}
			return
		}
		ids := map[string]bool{}
		for _, r := range doc.Rules {
			if _, n := r.Aspect(); n != 1 {
				t.Fatalf("accepted rule %q with %d aspects", r.ID, n)
			}
			if ids[r.ID] || r.ID == "" {
				t.Fatalf("accepted a missing or repeated rule id %q", r.ID)
			}
			ids[r.ID] = true
		}
		for _, a := range doc.Authorities {
			if a.Region == "" || len(a.Classes) == 0 || doc.Authority(a.Name) == nil {
				t.Fatalf("accepted authority %+v", a)
			}
		}
		for _, r := range doc.Regions {
			if r.Status != "" && !r.Status.Valid() {
				t.Fatalf("accepted status %q", r.Status)
			}
			if !slices.Contains([]PositionMode{"", PositionClaimed, PositionNetwork, PositionBoth}, r.Position) || !slices.Contains([]string{"", "claimed", "deny"}, r.WithoutCell) {
				t.Fatalf("accepted position %q, without_cell %q", r.Position, r.WithoutCell)
			}
		}
	})
}

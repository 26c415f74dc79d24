package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skyfence/skyfence/policy"
)

// planFiles writes the example policy without its no_service rule for the
// occupied zone (OLD), and a fleet; NEW is the example itself.
func planFiles(t *testing.T) (dir, old string) {
	t.Helper()
	doc, err := os.ReadFile(examplePolicy)
	if err != nil {
		t.Fatal(err)
	}
	zones, err := os.ReadFile(filepath.Join(filepath.Dir(examplePolicy), "zones.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	rule := `  - id: occupied-no-service
    region: zone:occupied-ua
    description: No service in occupied territory, except humanitarian missions.
    no_service: true
    exempt: {groups: [humanitarian], terminals: [UT-ICRC-0001]}
`
	if !strings.Contains(string(doc), rule) {
		t.Fatal("the example policy no longer has the occupied-no-service rule")
	}
	const verified = `"verifications": [{"region": "UA", "authority": "UA-MOD", "class": "%s", "verified_at": "2025-01-01T00:00:00Z"}]`
	fleet := strings.Join([]string{
		`{"terminal": {"id": "UT-MIL", "plan": "roam", "country": "UA", "status": "active", ` + strings.Replace(verified, "%s", "military", 1) + `}, "fix": {"time": "2026-06-15T11:00:00Z", "lat": 48.57, "lon": 39.3}}`,
		`{"terminal": {"id": "UT-CIV", "plan": "residential", "country": "UA", "status": "active", ` + strings.Replace(verified, "%s", "civil", 1) + `}, "fix": {"time": "2026-06-15T11:00:00Z", "lat": 48.0, "lon": 38.5, "speed_kmh": 300}}`,
		`{"terminal": {"id": "UT-KYIV", "plan": "roam", "country": "UA", "status": "active", ` + strings.Replace(verified, "%s", "civil", 1) + `}, "fix": {"time": "2026-06-15T11:00:00Z", "lat": 50.45, "lon": 30.52}}`,
		``,
		`{"terminal": {"id": "UT-NOFIX", "plan": "roam", "country": "DE", "status": "active"}}`,
	}, "\n")
	dir = writeFiles(t, map[string]string{
		"old.yaml":      strings.Replace(string(doc), rule, "", 1),
		"zones.geojson": string(zones),
		"fleet.jsonl":   fleet,
	})
	return dir, filepath.Join(dir, "old.yaml")
}

func TestPolicyPlan(t *testing.T) {
	t.Parallel()
	dir, old := planFiles(t)
	fleet := filepath.Join(dir, "fleet.jsonl")
	out, errs, code := runCLI(t, "", "policy", "plan", "--fleet", fleet, "--at", "2026-06-15T12:00:00Z", old, examplePolicy)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{
		"terminals:        4 (3 decided, 1 unlocated",
		"lose service:     2 (2 verified or on a priority plan: sponsored)",
		"* UT-MIL ",
		"+ occupied-no-service (zone:occupied-ua)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "UT-MIL") > strings.Index(out, "UT-CIV") {
		t.Errorf("the military terminal is not listed first:\n%s", out)
	}

	// JSON, from standard input, at the fixes' speeds: the civil terminal
	// at 300 km/h is denied before and after.
	data, err := os.ReadFile(fleet)
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code = runCLI(t, string(data), "policy", "plan", "--json", "--keep-speed", "--list", "1",
		"--at", "2026-06-15T12:00:00Z", "--fleet", "-", old, examplePolicy)
	if code != 0 || errs != "" {
		t.Fatalf("--json: exit %d, stderr %q", code, errs)
	}
	var rep policy.ImpactReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Losses != 1 || rep.ReasonChanges != 1 || rep.Unlocated != 1 || len(rep.Lost) != 1 || rep.Lost[0].ID != "UT-MIL" ||
		!rep.KeepSpeed || rep.Change == nil || len(rep.Change.Rules) != 1 {
		t.Errorf("report %s", out)
	}
}

func TestPolicyPlanErrors(t *testing.T) {
	t.Parallel()
	dir, old := planFiles(t)
	bad := filepath.Join(dir, "bad.jsonl")
	lines := `{"terminal": {"id": "UT-1"}}` + "\n" + `{"terminal": {"id": "UT-2", "colour": "red"}}` + "\n"
	if err := os.WriteFile(bad, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no fleet", []string{old, examplePolicy}, 2, "--fleet is required"},
		{"one policy", []string{"--fleet", bad, old}, 2, "want OLD and NEW, got 1"},
		{"negative list", []string{"--fleet", bad, "--list", "-1", old, examplePolicy}, 2, "--list is negative"},
		{"malformed line", []string{"--fleet", bad, old, examplePolicy}, 1, `bad.jsonl:2: unknown field "colour"`},
		{"no such fleet", []string{"--fleet", filepath.Join(dir, "none"), old, examplePolicy}, 1, "no such file"},
	}
	for _, tc := range tests {
		_, errs, code := runCLI(t, "", append([]string{"policy", "plan"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", tc.name, code, errs, tc.code, tc.want)
		}
	}
}

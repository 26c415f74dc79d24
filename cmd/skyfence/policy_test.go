package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const examplePolicy = "../../examples/policy/policy.yaml"

// runCLI runs the command line in-process and returns what it printed
// and its exit status.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errs bytes.Buffer
	code = run(context.Background(), env{args, strings.NewReader(stdin), &out, &errs})
	return out.String(), errs.String(), code
}

// writeFiles writes files (name to content) into a new directory and
// returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPolicyValidateExample(t *testing.T) {
	t.Parallel()
	out, errs, code := runCLI(t, "", "policy", "validate", examplePolicy)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, examplePolicy+": 0 errors, ") || !strings.Contains(last, "; version sha256:") {
		t.Errorf("summary %q, want %q, the warnings and the version", last, examplePolicy+": 0 errors")
	}
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasPrefix(l, examplePolicy+":") || !strings.Contains(l, ": warning: ") {
			t.Errorf("line %q: want only warnings about %s", l, examplePolicy)
		}
	}
}

// A policy with a problem of every kind: unknown key, unknown country,
// unknown plan, a rule with two aspects, and a broken zone file. One run
// reports them all, each at its place.
const brokenPolicy = `skyfence: policy/v1
colour: blue
zones:
  - file: zones.geojson
plans:
  roam:
    max_kmh: {land: 100}
regions:
  XQ:
    status: embargoed
rules:
  - id: two
    region: UA
    speed_cap_kmh: 75
    no_service: true
  - id: gold-only
    region: UA
    allowed_plans: [roam, gold]
`

const brokenZones = `{"type": "FeatureCollection", "features": [
 {"type": "Feature", "id": "box",
  "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}}]}
`

func TestPolicyValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{"policy.yaml": brokenPolicy, "zones.geojson": brokenZones})
	file, zones := filepath.Join(dir, "policy.yaml"), filepath.Join(dir, "zones.geojson")
	out, errs, code := runCLI(t, "", "policy", "validate", file)
	if code != 1 || errs != "" {
		t.Errorf("exit %d, stderr %q; want 1 and nothing", code, errs)
	}
	want := []struct{ at, msg string }{
		{file + ":2:1: error: ", `policy: unknown key "colour"`},
		{file + ":9:3: error: ", `regions.XQ: unknown region "XQ"`},
		{file + ":12:5: error: ", `rule "two": set exactly one of no_service, require_verification, speed_cap_kmh, allowed_plans, roaming, coastal (found 2)`},
		{file + ":16:5: error: ", `rule "gold-only" allowed_plans: unknown plan "gold"`},
		{zones + ":/features/0/geometry/coordinates/0/3: error: ", "ring is not closed"},
		{file + ": 5 errors, 0 warnings", ""},
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w.at) || !strings.Contains(lines[i], w.msg) {
			t.Errorf("line %d: got %q, want %q then %q", i+1, lines[i], w.at, w.msg)
		}
	}
}

func TestPolicyValidateSyntaxAndUsage(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{"bad.yaml": "skyfence: policy/v1\nplans: [\n"})
	file := filepath.Join(dir, "bad.yaml")
	out, _, code := runCLI(t, "", "policy", "validate", file)
	want := file + ":2:1: error: line 2: did not find expected node content\n" + file + ": 1 error, 0 warnings\n"
	if code != 1 || out != want {
		t.Errorf("got exit %d and\n%s\nwant exit 1 and\n%s", code, out, want)
	}

	if _, errs, code := runCLI(t, "", "policy", "validate", filepath.Join(dir, "missing.yaml")); code != 1 || !strings.Contains(errs, "no such file") {
		t.Errorf("missing file: exit %d, stderr %q; want 1 and no such file", code, errs)
	}
	for _, args := range [][]string{{"policy"}, {"policy", "validate"}, {"policy", "lint", file}, {"policy", "diff", file}, {"policy", "schema", file}} {
		if _, errs, code := runCLI(t, "", args...); code != 2 || !strings.Contains(errs, "usage: skyfence policy") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and the usage", args, code, errs)
		}
	}
}

func TestPolicyDiff(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile(examplePolicy)
	if err != nil {
		t.Fatal(err)
	}
	zones, err := os.ReadFile("../../examples/policy/zones.geojson")
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.NewReplacer(
		"  TW:\n    status: coming_soon", "  TW:\n    status: available\n    licence: {authority: NCC, reference: NCC/2026/1, valid_from: 2026-01-01}",
		"speed_cap_kmh: 75", "speed_cap_kmh: 60",
	).Replace(string(example))
	dir := writeFiles(t, map[string]string{"old.yaml": string(example), "new.yaml": changed, "zones.geojson": string(zones)})
	old, new := filepath.Join(dir, "old.yaml"), filepath.Join(dir, "new.yaml")

	// Flags may come after the files.
	out, errs, code := runCLI(t, "", "policy", "diff", old, new, "--at", "2026-06-15T12:00:00Z")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, line := range []string{
		"  ~ TW (Taiwan): coming_soon -> available\n",
		"  ~ TW: status coming_soon -> available; licence added: NCC NCC/2026/1, valid from 2026-01-01\n",
		"  ~ ua-speed-cap (UA): speed cap 75 -> 60 km/h\n",
		"  gains service: 36,",
		"    TW 36,",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("diff lacks %q:\n%s", line, out)
		}
	}

	out, _, code = runCLI(t, "", "policy", "diff", "--json", "--at", "2026-06-15T12:00:00Z", old, new)
	var c struct {
		Statuses []struct{ Region, Old, New string }
		Rules    []struct{ Kind, Name string }
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || code != 0 {
		t.Fatalf("--json: exit %d, %v:\n%s", code, err, out)
	}
	if len(c.Statuses) != 1 || c.Statuses[0].Region != "TW" || c.Statuses[0].New != "available" ||
		len(c.Rules) != 1 || c.Rules[0].Name != "ua-speed-cap" || c.Rules[0].Kind != "changed" {
		t.Errorf("--json: got %+v, want TW available and ua-speed-cap changed", c)
	}

	// A policy with errors is not compared.
	bad := writeFiles(t, map[string]string{"bad.yaml": "skyfence: policy/v1\nplans: {}\n"})
	_, errs, code = runCLI(t, "", "policy", "diff", old, filepath.Join(bad, "bad.yaml"))
	if code != 1 || !strings.Contains(errs, "a policy needs at least one plan") {
		t.Errorf("bad policy: exit %d, stderr %q; want 1 and its problem", code, errs)
	}
}

func TestPolicySchema(t *testing.T) {
	t.Parallel()
	out, _, code := runCLI(t, "", "policy", "schema")
	var doc struct {
		Schema string `json:"$schema"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 || doc.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("exit %d, $schema %q, %v; want 0 and a draft 2020-12 schema", code, doc.Schema, err)
	}
}

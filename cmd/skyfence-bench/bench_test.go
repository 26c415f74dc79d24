package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skyfence/skyfence/bench"
)

// runCLI runs the command line in-process and returns what it printed
// and its exit status.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errs bytes.Buffer
	code = run(context.Background(), env{args, &out, &errs})
	return out.String(), errs.String(), code
}

// TestBenchDetectSmoke runs `skyfence-bench detect` on a tiny fleet: the
// table names every target detector with a verdict, and the JSON holds
// the same scores.
func TestBenchDetectSmoke(t *testing.T) {
	file := filepath.Join(t.TempDir(), "detect.json")
	out, errs, code := runCLI(t, "detect", "--terminals", "2000", "--duration", "10m", "--json", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"bench detect --terminals 2000 --duration 10m0s", "| origin_denied | smuggled (30) |", "| impossible_travel | spoof-jump (15) |", "| drone_motion | drone (20) |", "| all |"} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var runs []bench.DetectionResult
	if err := json.Unmarshal(b, &runs); err != nil {
		t.Fatal(err)
	}
	// Without the confounders, then with them (and their bad actors'
	// targets, and the interference events).
	if len(runs) != 2 || runs[0].Confounders || !runs[1].Confounders {
		t.Fatalf("%d runs, want one without the confounders and one with", len(runs))
	}
	for k, want := range []int{4, 7} {
		res := runs[k]
		if res.Terminals != 2000 || res.Fixes == 0 || len(res.Targets) != want || !res.Defaults || res.Seed != 1 {
			t.Fatalf("run %d: %d terminals, %d fixes, %d targets (want %d), defaults %v, seed %d", k, res.Terminals, res.Fixes, len(res.Targets), want, res.Defaults, res.Seed)
		}
		for _, tg := range res.Targets {
			if tg.Delay.Labelled == 0 || !strings.Contains(out, "| "+tg.Detector+" | "+tg.Kind) {
				t.Errorf("run %d: target %+v not measured or not in the table", k, tg)
			}
		}
	}
	if len(runs[1].Interference) != 6 || !strings.Contains(out, "GNSS interference events and the incidents raised") {
		t.Errorf("with the confounders: %d interference events scored", len(runs[1].Interference))
	}
	if _, _, code := runCLI(t, "detect", "--confounders", "maybe"); code == 0 {
		t.Errorf("--confounders maybe accepted")
	}

	config := filepath.Join(t.TempDir(), "detect.json")
	if err := os.WriteFile(config, []byte(`{"disabled": ["origin_denied"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code = runCLI(t, "detect", "--terminals", "2000", "--duration", "10m", "--config", config)
	if code != 0 || !strings.Contains(out, "a config of its own") || !strings.Contains(out, "| origin_denied | smuggled (30) | 0 | 0.000 | 0.000 |") {
		t.Errorf("with origin_denied disabled: exit %d, %s\n%s", code, errs, out)
	}
}

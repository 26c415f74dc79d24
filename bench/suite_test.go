package bench

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skyfence/skyfence/world"
)

// TestSuiteSmoke runs every part of the suite at a tiny scale and checks
// that each measured something and that the section renders it.
func TestSuiteSmoke(t *testing.T) {
	var log strings.Builder
	cfg := SuiteConfig{
		Locate:    LocateConfig{Resolution: world.Res110m, Points: 2000, MinTime: 10 * time.Millisecond, Engines: []string{"skyfence", "tidwall"}},
		Decide:    DecideConfig{Terminals: 2000, MinTime: 20 * time.Millisecond},
		Serve:     ServeConfig{Policy: "../examples/policy/policy.yaml", Terminals: 2000, Duration: 300 * time.Millisecond, Dir: t.TempDir()},
		Impact:    ImpactConfig{Sizes: []int{1000, 3000}},
		Detection: DetectionConfig{Terminals: 3000, Duration: 10 * time.Minute},
		Moonshot:  MoonshotConfig{Terminals: 3000, Rate: 20_000, Batch: 200, Connections: 2, Duration: 500 * time.Millisecond, Dir: t.TempDir(), CPUProfile: filepath.Join(t.TempDir(), "cpu.prof")},
	}
	res, err := Suite(context.Background(), cfg, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	md := res.Markdown()
	t.Log("\n" + log.String() + "\n" + md)
	if len(res.Locate.Engines) != 2 || res.Locate.Engines[0].Agreement != 1 {
		t.Errorf("locate: %+v", res.Locate.Engines)
	}
	if d := res.Decide; d.Terminals != 2000 || !(d.OneCore > 0) || !(d.PerCore > 0) || d.Allowed < 0.5 || d.Allowed == 1 {
		t.Errorf("decide: %+v", d)
	}
	if s := res.Serve; s.Decisions == 0 || s.Refused != 0 {
		t.Errorf("serve: %+v", s)
	}
	if len(res.Impact) != 2 || res.Impact[1].Terminals != 3000 || !(res.Impact[1].TerminalsPerSec > 0) || res.Impact[1].Losses == 0 && res.Impact[1].Gains == 0 {
		t.Errorf("impact: %+v", res.Impact)
	}
	m := res.Moonshot
	if mem := m.Memory; mem.Terminals != 3000 || mem.HeapPerTerminal < 100 || mem.HeapPerTerminal > 20000 {
		t.Errorf("memory: %+v", mem)
	}
	if m.BatchesAnswered == 0 || m.Refused != 0 || m.Decided != m.BatchesAnswered*200 || !(m.P99Ms > 0) {
		t.Errorf("moonshot: %+v", m)
	}
	if d := res.Detection; d.Fixes == 0 || d.Scores.All.Flagged == 0 || len(d.Scores.Kinds) == 0 || !(d.FixesPerSec > 0) {
		t.Errorf("detection: %+v", d)
	}
	if st, err := os.Stat(cfg.Moonshot.CPUProfile); err != nil || st.Size() == 0 {
		t.Errorf("no CPU profile: %v", err)
	}
	for _, want := range []string{"### Point in region", "### Decisions", "### The server", "### Impact preview", "### Memory and the moonshot", "### Detection against", "| all |", "| 3,000 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("the section lacks %q", want)
		}
	}
	if _, err := json.Marshal(res); err != nil {
		t.Error(err)
	}
}

func TestWriteDoc(t *testing.T) {
	file := filepath.Join(t.TempDir(), "BENCH.md")
	head, tail := "# Benchmarks\n\nkept\n\n", "\n\nalso kept\n"
	if err := os.WriteFile(file, []byte(head+BeginMarker+"\nold\n"+EndMarker+tail), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := WriteDoc(file, "## new\n\nfigures\n"); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := os.ReadFile(file)
	if want := head + BeginMarker + "\n## new\n\nfigures\n" + EndMarker + tail; string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if err := os.WriteFile(file, []byte("no markers"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteDoc(file, "x"); err == nil {
		t.Error("a file without markers: no error")
	}
}

// TestMoonshotDetect runs the moonshot with detection in the process: every
// fix the server decides for a known terminal is offered to detection,
// accepted or dropped, and the table says how many.
func TestMoonshotDetect(t *testing.T) {
	snap, err := Scenario()
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	cfg := MoonshotConfig{Terminals: 3000, Rate: 20_000, Batch: 200, Connections: 2, Duration: 500 * time.Millisecond, Dir: t.TempDir(), Detect: true}
	m, err := Moonshot(context.Background(), snap, cfg, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if m.BatchesAnswered == 0 || m.Refused != 0 {
		t.Fatalf("moonshot: %+v", m)
	}
	// Only applied fixes of known terminals are observed: at most every
	// fix decided, and at this load nearly all of them.
	if !m.Detect || m.DetectOffered == 0 || m.DetectOffered > m.Decided || m.DetectDropped > m.DetectOffered {
		t.Errorf("detection during the load: offered %d, dropped %d, of %d fixes decided", m.DetectOffered, m.DetectDropped, m.Decided)
	}
	if md := m.Markdown(); !strings.Contains(md, "Detection ran in the process") {
		t.Errorf("the table does not report detection:\n%s", md)
	}
}

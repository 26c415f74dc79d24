package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// Parts are the measurements the suite makes, in order.
var Parts = []string{"locate", "decide", "serve", "impact", "moonshot", "detect"}

// SuiteConfig says what Suite measures: which parts (default all), each
// with its own config. The defaults fit in about five minutes on two cores.
type SuiteConfig struct {
	Parts     []string
	Locate    LocateConfig
	Decide    DecideConfig
	Serve     ServeConfig
	Impact    ImpactConfig
	Moonshot  MoonshotConfig
	Detection DetectionConfig
}

// SuiteDefaults returns the suite's configuration at full scale: the
// parts' own defaults, with serve driven for 5 s instead of 10.
func SuiteDefaults() SuiteConfig {
	return SuiteConfig{Serve: ServeConfig{Duration: 5 * time.Second}}
}

// SuiteResult is every part's result; parts not run are nil.
type SuiteResult struct {
	Machine   Machine          `json:"machine"`
	Seconds   float64          `json:"seconds"`
	Locate    *LocateResult    `json:"locate,omitempty"`
	Decide    *DecideResult    `json:"decide,omitempty"`
	Serve     *ServeResult     `json:"serve,omitempty"`
	Impact    []ImpactMeasure  `json:"impact,omitempty"`
	Moonshot  *MoonshotResult  `json:"moonshot,omitempty"`
	Detection *DetectionResult `json:"detection,omitempty"`
}

// Suite runs the parts of cfg in order, writing progress to log.
func Suite(ctx context.Context, cfg SuiteConfig, log io.Writer) (*SuiteResult, error) {
	parts := cfg.Parts
	if parts == nil {
		parts = Parts
	}
	for _, p := range parts {
		if !slices.Contains(Parts, p) {
			return nil, fmt.Errorf("bench: unknown part %q (want %s)", p, strings.Join(Parts, ", "))
		}
	}
	start := time.Now()
	res := &SuiteResult{Machine: machineFacts()}
	has := func(p string) bool { return slices.Contains(parts, p) }
	var err error
	if has("locate") {
		if res.Locate, err = Locate(ctx, cfg.Locate, log); err != nil {
			return nil, err
		}
	}
	if has("serve") {
		if res.Serve, err = Serve(ctx, cfg.Serve, log); err != nil {
			return nil, err
		}
	}
	if has("decide") || has("impact") || has("moonshot") || has("detect") {
		snap, err := Scenario()
		if err != nil {
			return nil, err
		}
		if has("decide") {
			if res.Decide, err = Decide(ctx, snap, cfg.Decide, log); err != nil {
				return nil, err
			}
		}
		if has("impact") {
			if res.Impact, err = Impact(ctx, snap, cfg.Impact, log); err != nil {
				return nil, err
			}
		}
		if has("moonshot") {
			if res.Moonshot, err = Moonshot(ctx, snap, cfg.Moonshot, log); err != nil {
				return nil, err
			}
		}
		if has("detect") {
			if res.Detection, err = Detection(ctx, snap, cfg.Detection, log); err != nil {
				return nil, err
			}
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// Markdown renders every part that ran under a heading of its own, for
// the generated section of docs/BENCHMARKS.md.
func (r *SuiteResult) Markdown() string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "## The suite\n\n```sh\ngo run ./cmd/skyfence-bench all --write-doc    # --json FILE for machine-readable output\n```\n\n")
	fmt.Fprintf(&b, "Measured %s on %s, %d CPUs (GOMAXPROCS %d), %s/%s, %s, in %.0f s.\n\n",
		m.Date.Format(time.DateOnly), orUnknown(m.CPU), m.NumCPU, m.GOMAXPROCS, m.GOOS, m.GOARCH, m.GoVersion, r.Seconds)
	section := func(title, body string) {
		fmt.Fprintf(&b, "### %s\n\n%s\n", title, body)
	}
	if r.Locate != nil {
		section("Point in region (`bench locate`)", r.Locate.Markdown())
	}
	if r.Decide != nil {
		section("Decisions (`bench decide`)", r.Decide.Markdown())
	}
	if r.Serve != nil {
		section("The server over HTTP, closed loop (`bench serve`)", r.Serve.Markdown())
	}
	if r.Impact != nil {
		section("Impact preview (`bench impact`)", impactMarkdown(r.Impact))
	}
	if r.Moonshot != nil {
		section("Memory and the moonshot (`bench moonshot`)", r.Moonshot.Markdown())
	}
	if r.Detection != nil {
		section("Detection against the simulator's labels (`bench detect`)", r.Detection.Markdown())
	}
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown CPU"
	}
	return s
}

// Markers delimit the generated section of docs/BENCHMARKS.md.
const (
	BeginMarker = "<!-- bench:begin -->"
	EndMarker   = "<!-- bench:end -->"
)

// WriteDoc replaces what lies between BeginMarker and EndMarker in file
// with section, leaving the rest of the file as it is. It fails if the
// markers are missing or out of order.
func WriteDoc(file, section string) error {
	doc, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	i, j := bytes.Index(doc, []byte(BeginMarker)), bytes.Index(doc, []byte(EndMarker))
	if i < 0 || j < i {
		return fmt.Errorf("bench: %s has no %s ... %s section", file, BeginMarker, EndMarker)
	}
	var out bytes.Buffer
	out.Write(doc[:i+len(BeginMarker)])
	out.WriteString("\n")
	out.WriteString(strings.TrimSpace(section))
	out.WriteString("\n")
	out.Write(doc[j:])
	return os.WriteFile(file, out.Bytes(), 0o644)
}

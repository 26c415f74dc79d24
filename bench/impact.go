package bench

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/skyfence/skyfence/examples"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/sim"
)

// ImpactConfig says what Impact measures. Zero fields take their defaults.
type ImpactConfig struct {
	// Sizes are the fleets to preview the change over; default 1 million
	// and 10 million.
	Sizes []int
	Seed  uint64 // of the fleets; default 1
}

// ImpactMeasure is one impact preview over a fleet.
type ImpactMeasure struct {
	Terminals int `json:"terminals"`
	// SetupSec is the time to make the fleet and its inputs (last known
	// positions and registry records), not part of a preview.
	SetupSec        float64 `json:"setup_s"`
	Seconds         float64 `json:"seconds"`
	TerminalsPerSec float64 `json:"terminals_per_s"`
	// HeapMB is the live heap while the inputs are held: what a server
	// previewing over that many terminals' states needs for them.
	HeapMB int64 `json:"heap_mb"`
	Gains  int   `json:"gains"`
	Losses int   `json:"losses"`
}

// impactChange is the change previewed: Taiwan licensed (as in the README
// tour) and the Kherson front shutdown extended to the end of 2026, so
// that some terminals gain service and some lose it.
var impactChange = []struct{ from, to string }{
	{"status: coming_soon", "status: available\n    licence: {authority: NCC, reference: NCC/2026/31, valid_from: 2026-03-01}"},
	{"until: 2026-03-01", "until: 2027-01-01"},
}

// changedScenario compiles the scenario policy with impactChange applied.
func changedScenario(snap *policy.Snapshot) (*policy.Snapshot, error) {
	raw, err := examples.ReadPolicyFile(examples.PolicyFile)
	if err != nil {
		return nil, err
	}
	text := string(raw)
	for _, c := range impactChange {
		if strings.Count(text, c.from) != 1 {
			return nil, fmt.Errorf("bench: the scenario policy no longer has %q once", c.from)
		}
		text = strings.Replace(text, c.from, c.to, 1)
	}
	src, err := policy.LoadWith(examples.PolicyFile, func(name string) ([]byte, error) {
		if name == examples.PolicyFile {
			return []byte(text), nil
		}
		return examples.ReadPolicyFile(name)
	})
	if err != nil {
		return nil, err
	}
	return policy.Compile(src, snap.Atlas())
}

// Impact previews a policy change (impactChange) over simulated fleets of
// each size, as a server does when a change is proposed: every terminal
// decided at its last known position under both policies, on every core.
func Impact(ctx context.Context, snap *policy.Snapshot, cfg ImpactConfig, log io.Writer) ([]ImpactMeasure, error) {
	if cfg.Sizes == nil {
		cfg.Sizes = []int{1_000_000, 10_000_000}
	}
	next, err := changedScenario(snap)
	if err != nil {
		return nil, err
	}
	var out []ImpactMeasure
	for _, n := range cfg.Sizes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m, err := impactOver(snap, next, n, max(cfg.Seed, 1), log)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func impactOver(old, next *policy.Snapshot, n int, seed uint64, log io.Writer) (ImpactMeasure, error) {
	m := ImpactMeasure{Terminals: n}
	start := time.Now()
	fmt.Fprintf(log, "bench impact: making a fleet of %d terminals\n", n)
	f, err := sim.Generate(sim.Config{Terminals: n, Seed: seed, Policy: old})
	if err != nil {
		return m, err
	}
	at := f.Start().Add(10 * time.Minute)
	ts, fixes := fleetAt(f, at)
	in := make([]policy.ImpactInput, n)
	for i := range in {
		in[i] = policy.ImpactInput{Terminal: ts[i], Fix: fixes[i]}
	}
	ts, fixes = nil, nil
	m.SetupSec = time.Since(start).Seconds()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.HeapMB = int64(ms.HeapAlloc >> 20)
	start = time.Now()
	rep := policy.Impact(old, next, at, in, policy.ImpactOptions{})
	m.Seconds = time.Since(start).Seconds()
	m.TerminalsPerSec = float64(n) / m.Seconds
	m.Gains, m.Losses = rep.Gains, rep.Losses
	fmt.Fprintf(log, "bench impact: %d terminals previewed in %.2f s (%d gain, %d lose service)\n", n, m.Seconds, m.Gains, m.Losses)
	runtime.KeepAlive(in)
	return m, nil
}

// impactMarkdown renders impact measures as a table.
func impactMarkdown(ms []ImpactMeasure) string {
	var b strings.Builder
	b.WriteString("`policy.Impact` of a change (Taiwan licensed, the Kherson front shutdown extended) over simulated fleets, every terminal decided at its last position under both policies on every core:\n\n")
	b.WriteString("| terminals | preview s | terminals/s | gain | lose | heap of the inputs MB | making the fleet s |\n|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, m := range ms {
		fmt.Fprintf(&b, "| %s | %.2f | %s | %s | %s | %s | %.1f |\n", thousands(float64(m.Terminals)), m.Seconds, thousands(m.TerminalsPerSec),
			thousands(float64(m.Gains)), thousands(float64(m.Losses)), thousands(float64(m.HeapMB)), m.SetupSec)
	}
	return b.String()
}

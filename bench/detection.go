package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/sim"
)

// DetectionConfig says what Detection measures. Zero fields take their
// defaults.
type DetectionConfig struct {
	Terminals int           // simulated fleet; default 100,000
	Seed      uint64        // of the fleet; default 1
	Duration  time.Duration // simulated time replayed; default 30 minutes
}

// DetectionResult is how well detect's engine found the simulator's bad
// actors, and how fast it ran.
type DetectionResult struct {
	Terminals int     `json:"terminals"`
	SimSec    float64 `json:"sim_s"`
	Fixes     int64   `json:"fixes"`
	// Seconds is the time spent in Engine.Process alone, and FixesPerSec
	// the observations it took a second on one goroutine.
	Seconds     float64       `json:"seconds"`
	FixesPerSec float64       `json:"fixes_per_s"`
	Alerts      int           `json:"alerts"` // distinct terminal and detector pairs
	Scores      detect.Scores `json:"scores"`
}

// Detection replays a simulated fleet in time order through the policy
// (DecideBatch, with each terminal's track, as ingest decides) and a
// detect.Engine with its default config, then scores the alerts against
// the fleet's labels (detect.Score).
func Detection(ctx context.Context, snap *policy.Snapshot, cfg DetectionConfig, log io.Writer) (*DetectionResult, error) {
	cfg.Terminals = cmp.Or(cfg.Terminals, 100_000)
	cfg.Seed = cmp.Or(cfg.Seed, 1)
	cfg.Duration = cmp.Or(cfg.Duration, 30*time.Minute)
	f, err := sim.Generate(sim.Config{Terminals: cfg.Terminals, Seed: cfg.Seed, Policy: snap, Duration: cfg.Duration})
	if err != nil {
		return nil, err
	}
	dc := detect.DefaultConfig()
	dc.MaxTerminals = max(dc.MaxTerminals, f.Len())
	eng, err := detect.New(dc, detect.Options{})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "bench detection: replaying %v of %d terminals through the policy and the detectors\n", cfg.Duration, f.Len())
	terms := make([]*skyfence.Terminal, f.Len())
	tracks := make([]policy.Track, f.Len())
	for i := range terms {
		terms[i] = f.Terminal(i)
	}
	res := &DetectionResult{Terminals: f.Len(), SimSec: cfg.Duration.Seconds()}
	alerts := make(map[alertKey]detect.Alert)
	keep := func(as []detect.Alert) {
		for _, a := range as {
			a.Evidence, a.Related = nil, nil
			alerts[alertKey{a.TerminalID, a.Detector}] = a
		}
	}
	var fixes []skyfence.Fix
	var ts []*skyfence.Terminal
	var trs []*policy.Track
	var ds []policy.Decision
	var busy time.Duration
	for s := time.Duration(0); s < cfg.Duration; s += time.Second {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		at := f.Start().Add(s)
		fixes = f.AppendFixes(fixes[:0], at, at.Add(time.Second))
		ts, trs = ts[:0], trs[:0]
		for _, fx := range fixes {
			i, _ := f.Index(fx.TerminalID)
			ts, trs = append(ts, terms[i]), append(trs, &tracks[i])
		}
		ds = append(ds[:0], make([]policy.Decision, len(fixes))...)
		snap.DecideBatch(ts, trs, fixes, ds)
		start := time.Now()
		for k := range fixes {
			trs[k].Observe(fixes[k], &ds[k], ts[k].Country)
			keep(eng.Process(&detect.Observation{Terminal: ts[k], Fix: fixes[k], Decision: ds[k], Received: fixes[k].Time}))
		}
		busy += time.Since(start)
		res.Fixes += int64(len(fixes))
	}
	keep(eng.Flush())
	res.Seconds = busy.Seconds()
	res.FixesPerSec = float64(res.Fixes) / res.Seconds
	labels := make(map[string]detect.Label)
	for i := range f.Len() {
		if l := f.Label(i); l.Bad {
			labels[l.ID] = detect.Label{Kind: l.Behaviour.String(), Start: l.BadFrom}
		}
	}
	list := make([]detect.Alert, 0, len(alerts))
	for _, a := range alerts {
		list = append(list, a)
	}
	res.Alerts = len(list)
	res.Scores = detect.Score(list, labels)
	fmt.Fprintf(log, "bench detection: %d fixes, %d alerts, precision %.3f\n", res.Fixes, res.Alerts, res.Scores.All.Precision)
	return res, nil
}

type alertKey struct {
	terminal string
	detector detect.Detector
}

// Markdown renders the scores: a row per detector that flagged anything,
// and the row of all detectors, with precision and the recall of each kind
// of bad actor.
func (r *DetectionResult) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "`detect.Engine` (default config) over %s fixes of a simulated fleet of %s terminals (%s simulated, labelled bad actors turning bad in its first half), decided by the scenario policy with tracks, scored with `detect.Score` against the labels; the engine took %s observations/s on one goroutine:\n\n",
		thousands(float64(r.Fixes)), thousands(float64(r.Terminals)), time.Duration(r.SimSec*float64(time.Second)), thousands(r.FixesPerSec))
	b.WriteString("| detector | flagged | precision |")
	for _, k := range r.Scores.Kinds {
		b.WriteString(" recall " + k + " |")
	}
	b.WriteString("\n|---|---:|---:|" + strings.Repeat("---:|", len(r.Scores.Kinds)) + "\n")
	row := func(d detect.DetectorScore) {
		fmt.Fprintf(&b, "| %s | %s | %.3f |", d.Name, thousands(float64(d.Flagged)), d.Precision)
		for _, k := range d.Kinds {
			fmt.Fprintf(&b, " %.3f |", k.Recall)
		}
		b.WriteString("\n")
	}
	for _, d := range r.Scores.Detectors {
		if d.Flagged > 0 {
			row(d)
		}
	}
	row(r.Scores.All)
	return b.String()
}

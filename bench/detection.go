package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
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
	// Detect is the engine's configuration; detect.DefaultConfig() if nil.
	Detect *detect.Config
	// Confounders turns on the simulator's confounders (sim.Config):
	// GNSS interference, crowded sites, trains, and the bad actors that
	// adapt. Fixes always carry their serving cell.
	Confounders bool
}

// DetectionResult is how well detect's engine found the simulator's bad
// actors, and how fast it ran.
type DetectionResult struct {
	Terminals   int     `json:"terminals"`
	Seed        uint64  `json:"seed"`
	Confounders bool    `json:"confounders"`
	SimSec      float64 `json:"sim_s"`
	// Defaults is true if the engine ran with detect.DefaultConfig().
	Defaults bool  `json:"default_config"`
	Fixes    int64 `json:"fixes"`
	// Seconds is the time spent in Engine.Process alone, and FixesPerSec
	// the observations it took a second on one goroutine.
	Seconds     float64       `json:"seconds"`
	FixesPerSec float64       `json:"fixes_per_s"`
	Alerts      int           `json:"alerts"` // distinct alerts (ids)
	Scores      detect.Scores `json:"scores"`
	// Targets are the targets, met or not, one per detector it
	// names (DetectionTargets).
	Targets []TargetScore `json:"targets"`
	// FalsePositives counts, per detector (by name), the terminals it
	// flagged wrongly by what they really are: an honest behaviour of the
	// simulator, or a bad actor's kind flagged only before its start
	// ("spoof-clone before its start").
	FalsePositives map[string]map[string]int `json:"false_positives"`
	// Interference scores the incidents against the simulator's GNSS
	// interference events (with the confounders on).
	Interference []EventScore `json:"interference,omitempty"`
	// Incidents are the engine's incidents at the end of the run.
	Incidents []detect.Incident `json:"incidents,omitempty"`
}

// TargetIncidentDelay is the target for raising an incident after
// a GNSS interference event starts.
const TargetIncidentDelay = 60 * time.Second

// EventScore is one simulated GNSS interference event: the incident that
// matched it (an incident whose area meets the event's and which was open
// while it lasted), how long after the event's start it was raised, the
// honest terminals affected, and those of them with a medium or high alert
// (not explained) active during the event.
type EventScore struct {
	Kind       string        `json:"kind"`
	RadiusKm   float64       `json:"radius_km"`
	Start      time.Time     `json:"start"`
	Duration   time.Duration `json:"duration"`
	Incident   string        `json:"incident,omitempty"`
	Raised     time.Duration `json:"raised"`     // after Start (0 if it was open already); -1 if none matched
	Terminals  int           `json:"terminals"`  // the incident's count
	Honest     int           `json:"honest"`     // honest terminals the event touched
	Alerted    int           `json:"alerted"`    // of those, with a medium or high alert during it
	RaisedMet  bool          `json:"raised_met"` // within TargetIncidentDelay
	AlertedMet bool          `json:"alerted_met"`
}

// The targets for detection against the simulator's labels.
const (
	TargetPrecision = 0.95
	TargetRecall    = 0.95
	TargetDelay     = 30 * time.Second // simulated time from a bad actor's start to its alert
)

// DetectionTargets are the detectors the issue sets targets for, each with
// the kind of bad actor (sim.Behaviour) it is meant to find.
var DetectionTargets = []struct {
	Detector detect.Detector
	Kind     sim.Behaviour
}{
	{detect.OriginDenied, sim.Smuggled},
	{detect.ImpossibleTravel, sim.SpoofJump},
	{detect.DroneMotion, sim.Drone},
	{detect.DroneMotion, sim.DroneLow},
	{detect.OriginDenied, sim.SmuggledRare},
	{detect.CellMismatch, sim.SpoofTrack},
	{detect.ClonedPosition, sim.SpoofClone},
}

// TargetScore is one target detector against the kind it is meant for:
// its precision (over every terminal it flagged), its recall and delays
// for the kind, and whether each target is met. The delay target is met
// when every caught terminal was alerted within TargetDelay.
type TargetScore struct {
	Detector  string           `json:"detector"`
	Kind      string           `json:"kind"`
	Flagged   int              `json:"flagged"`
	Precision float64          `json:"precision"`
	Recall    float64          `json:"recall"`
	Delay     detect.KindScore `json:"delay"`
	// UnderInterference of the labelled terminals were inside a GNSS
	// interference event when they started or in the TargetDelay after
	// (their receivers spoofed or jammed), and ClearDelay is Delay over the
	// others.
	UnderInterference int              `json:"under_interference"`
	ClearDelay        detect.KindScore `json:"clear_delay"`
	// PrecisionMet, RecallMet and DelayMet say which targets are met; Met
	// that all are. ClearDelayMet is the delay target over the terminals
	// not under interference at their start.
	PrecisionMet  bool `json:"precision_met"`
	RecallMet     bool `json:"recall_met"`
	DelayMet      bool `json:"delay_met"`
	ClearDelayMet bool `json:"clear_delay_met"`
	Met           bool `json:"met"`
}

// Detection replays a simulated fleet in time order through the policy
// (DecideBatch, with each terminal's track, as ingest decides) and a
// detect.Engine (its default config unless cfg.Detect), then scores the alerts against
// the fleet's labels (detect.Score).
func Detection(ctx context.Context, snap *policy.Snapshot, cfg DetectionConfig, log io.Writer) (*DetectionResult, error) {
	cfg.Terminals = cmp.Or(cfg.Terminals, 100_000)
	cfg.Seed = cmp.Or(cfg.Seed, 1)
	cfg.Duration = cmp.Or(cfg.Duration, 30*time.Minute)
	f, err := sim.Generate(sim.Config{Terminals: cfg.Terminals, Seed: cfg.Seed, Policy: snap, Duration: cfg.Duration,
		Confounders: cfg.Confounders, Cells: true})
	if err != nil {
		return nil, err
	}
	dc := detect.DefaultConfig()
	if cfg.Detect != nil {
		dc = *cfg.Detect
	}
	dc.MaxTerminals = max(dc.MaxTerminals, f.Len())
	eng, err := detect.New(dc, detect.Options{})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "bench detect: replaying %v of %d terminals through the policy and the detectors\n", cfg.Duration, f.Len())
	terms := make([]*skyfence.Terminal, f.Len())
	tracks := make([]policy.Track, f.Len())
	for i := range terms {
		terms[i] = f.Terminal(i)
	}
	res := &DetectionResult{Terminals: f.Len(), Seed: cfg.Seed, Confounders: cfg.Confounders, SimSec: cfg.Duration.Seconds(), Defaults: cfg.Detect == nil}
	alerts := make(map[string]detect.Alert) // the last emission of each alert, by id
	keep := func(as []detect.Alert) {
		for _, a := range as {
			a.Evidence, a.Related = nil, nil
			alerts[a.ID] = a
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
	labels, clear := make(map[string]detect.Label), make(map[string]detect.Label)
	under := map[string]int{} // labelled terminals under interference at their start, by kind
	for i := range f.Len() {
		if l := f.Label(i); l.Bad {
			labels[l.ID] = detect.Label{Kind: l.Behaviour.String(), Start: l.BadFrom}
			if underInterference(f, i, l.BadFrom) {
				under[l.Behaviour.String()]++
			} else {
				clear[l.ID] = labels[l.ID]
			}
		}
	}
	list := make([]detect.Alert, 0, len(alerts))
	for _, a := range alerts {
		list = append(list, a)
	}
	res.Alerts = len(list)
	res.Scores = detect.Score(list, labels)
	res.Targets = targets(res.Scores, detect.Score(list, clear), under)
	res.Incidents = eng.Incidents()
	res.Interference = scoreEvents(f, cfg.Duration, list, res.Incidents)
	res.FalsePositives = falsePositives(f, list)
	fmt.Fprintf(log, "bench detect: %d fixes, %d alerts, precision %.3f\n", res.Fixes, res.Alerts, res.Scores.All.Precision)
	return res, nil
}

// targets scores the DetectionTargets whose kind the fleet has; clear is
// the scores over the bad actors not under interference at their start,
// under counts the others by kind.
func targets(s, clear detect.Scores, under map[string]int) []TargetScore {
	var out []TargetScore
	for _, tg := range DetectionTargets {
		d := s.Detectors[tg.Detector]
		ts := TargetScore{Detector: d.Name, Kind: tg.Kind.String(), Flagged: d.Flagged, Precision: d.Precision}
		for _, k := range d.Kinds {
			if k.Kind == ts.Kind {
				ts.Recall, ts.Delay = k.Recall, k
			}
		}
		if ts.Delay.Labelled == 0 {
			continue // not in this fleet's mix
		}
		ts.UnderInterference = under[ts.Kind]
		for _, k := range clear.Detectors[tg.Detector].Kinds {
			if k.Kind == ts.Kind {
				ts.ClearDelay = k
			}
		}
		ts.ClearDelayMet = ts.ClearDelay.Caught > 0 && ts.ClearDelay.DelayMax <= TargetDelay
		ts.PrecisionMet = ts.Precision >= TargetPrecision
		ts.RecallMet = ts.Recall >= TargetRecall
		ts.DelayMet = ts.Delay.Caught > 0 && ts.Delay.DelayMax <= TargetDelay
		ts.Met = ts.PrecisionMet && ts.RecallMet && ts.DelayMet
		out = append(out, ts)
	}
	return out
}

// underInterference reports whether terminal i's true position is inside
// an interference event at its start or in the TargetDelay after it: its
// receiver spoofed or jammed while it should be alerted.
func underInterference(f *sim.Fleet, i int, start time.Time) bool {
	for d := time.Duration(0); d <= TargetDelay; d += f.Interval() / 3 {
		if _, hit := f.Affected(i, start.Add(d)); hit {
			return true
		}
	}
	return false
}

// scoreEvents matches the fleet's interference events with incidents and
// counts the honest terminals each touched (at its start, its middle or its
// last minute) and those of them with a medium or high alert, not
// explained, active during it.
func scoreEvents(f *sim.Fleet, dur time.Duration, alerts []detect.Alert, incs []detect.Incident) []EventScore {
	evs := f.Interference()
	out := make([]EventScore, len(evs))
	for k, ev := range evs {
		es := &out[k]
		*es = EventScore{Kind: ev.Kind.String(), RadiusKm: ev.RadiusKm, Start: ev.Start, Duration: ev.End.Sub(ev.Start), Raised: -1}
		end := earliest(ev.End, f.Start().Add(dur))
		for _, in := range incs {
			// An incident already open there when the event began (an
			// event next to another one merges into its incident) counts
			// as raised at once.
			if !in.Opened.Before(end) || in.End.Before(ev.Start) || !meets(ev, in) {
				continue
			}
			if d := max(0, in.Opened.Sub(ev.Start)); es.Raised < 0 || d < es.Raised {
				es.Incident, es.Raised, es.Terminals = in.ID, d, in.Terminals
			}
		}
		es.RaisedMet = es.Raised >= 0 && es.Raised <= TargetIncidentDelay
	}
	touched := make([]map[string]bool, len(evs))
	for k := range touched {
		touched[k] = map[string]bool{}
	}
	for i := range f.Len() {
		if f.Behaviour(i).Bad() {
			continue
		}
		for k, ev := range evs {
			end := earliest(ev.End, f.Start().Add(dur))
			for _, t := range []time.Time{ev.Start, ev.Start.Add(end.Sub(ev.Start) / 2), end.Add(-time.Minute)} {
				if j, hit := f.Affected(i, t); hit && j == k {
					touched[k][f.ID(i)] = true
					break
				}
			}
		}
	}
	alerted := make([]map[string]bool, len(evs))
	for k := range alerted {
		alerted[k] = map[string]bool{}
	}
	for _, a := range alerts {
		if a.Explained || a.Severity < detect.Medium {
			continue
		}
		for k, ev := range evs {
			if touched[k][a.TerminalID] && a.FirstSeen.Before(ev.End) && !a.LastSeen.Before(ev.Start) {
				alerted[k][a.TerminalID] = true
			}
		}
	}
	for k := range out {
		out[k].Honest, out[k].Alerted = len(touched[k]), len(alerted[k])
		out[k].AlertedMet = out[k].Alerted == 0
	}
	return out
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// meets reports whether an incident's area meets the bounding box of an
// event's circle.
func meets(ev sim.InterferenceEvent, in detect.Incident) bool {
	dLat := ev.RadiusKm / 111.2
	dLon := dLat / max(0.05, math.Cos(ev.Lat*math.Pi/180))
	return in.MinLat <= ev.Lat+dLat && in.MaxLat >= ev.Lat-dLat && in.MinLon <= ev.Lon+dLon && in.MaxLon >= ev.Lon-dLon
}

// falsePositives counts, per detector and for all of them ("all"), the
// terminals of f flagged by alerts none of which was last seen at or after
// the terminal's bad start, by what the terminal really is.
func falsePositives(f *sim.Fleet, alerts []detect.Alert) map[string]map[string]int {
	type key struct {
		terminal string
		det      detect.Detector
	}
	const all = detect.Detector(detect.NumDetectors) // the row of any detector
	good := map[key]bool{}
	for _, a := range alerts {
		if a.Explained {
			continue // flags nothing (detect.Score)
		}
		i, _ := f.Index(a.TerminalID)
		l := f.Label(i)
		ok := l.Bad && !a.LastSeen.Before(l.BadFrom)
		for _, k := range []key{{a.TerminalID, a.Detector}, {a.TerminalID, all}} {
			good[k] = good[k] || ok
		}
	}
	out := map[string]map[string]int{}
	for k, ok := range good {
		if ok {
			continue
		}
		i, _ := f.Index(k.terminal)
		what := f.Behaviour(i).String()
		if f.Behaviour(i).Bad() {
			what += " before its start"
		}
		d := k.det.String()
		if k.det == all {
			d = "all"
		}
		if out[d] == nil {
			out[d] = map[string]int{}
		}
		out[d][what]++
	}
	return out
}

// Markdown renders the scores: the targets, met or not; then a row per
// detector that flagged anything, and the row of all detectors, with
// precision, the recall of each kind of bad actor, and the false positives
// by what they really are.
func (r *DetectionResult) Markdown() string {
	var b strings.Builder
	config := "default config"
	if !r.Defaults {
		config = "a config of its own"
	}
	onOff, with := "off", "without the confounders"
	if r.Confounders {
		onOff, with = "on", "with the confounders (GNSS interference, crowded sites, trains, adapting bad actors)"
	}
	fmt.Fprintf(&b, "```sh\ngo run ./cmd/skyfence-bench detect --terminals %d --duration %v --seed %d --confounders %s    # --json FILE for machine-readable output\n```\n\n", r.Terminals, r.duration(), r.Seed, onOff)
	fmt.Fprintf(&b, "`detect.Engine` (%s) over %s fixes of a simulated fleet of %s terminals, seed %d, %s (%s simulated, labelled bad actors turning bad in its first half, every fix with its serving cell), decided by the scenario policy with tracks, scored with `detect.Score` against the labels; the engine took %s observations/s on one goroutine.\n\n",
		config, thousands(float64(r.Fixes)), thousands(float64(r.Terminals)), r.Seed, with, r.duration(), thousands(r.FixesPerSec))
	fmt.Fprintf(&b, "The issue's targets: precision and recall at least %.2f, and every alert within %s of simulated time after the behaviour starts (delays are from the label's start to the alert's first firing fix; terminals report every 15 s):\n\n", TargetPrecision, seconds(TargetDelay))
	b.WriteString("| detector | meant for | flagged | precision | recall | delay p50 | p95 | max | started under interference | their max delay without them | target |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, t := range r.Targets {
		fmt.Fprintf(&b, "| %s | %s (%d) | %s | %.3f | %.3f | %s | %s | %s | %d | %s | %s |\n", t.Detector, t.Kind, t.Delay.Labelled, thousands(float64(t.Flagged)),
			t.Precision, t.Recall, seconds(t.Delay.DelayP50), seconds(t.Delay.DelayP95), seconds(t.Delay.DelayMax),
			t.UnderInterference, seconds(t.ClearDelay.DelayMax), t.verdict())
	}
	if len(r.Interference) > 0 {
		fmt.Fprintf(&b, "\nGNSS interference events and the incidents raised (targets: raised within %s, no honest terminal of the event with a medium or high alert during it):\n\n", seconds(TargetIncidentDelay))
		b.WriteString("| event | radius | lasted | incident | raised after | terminals in it | honest touched | honest alerted | target |\n|---|---:|---:|---|---:|---:|---:|---:|---|\n")
		for _, es := range r.Interference {
			raised, verdict := "none", "met"
			if es.Raised >= 0 {
				raised = seconds(es.Raised)
			}
			switch {
			case !es.RaisedMet && !es.AlertedMet:
				verdict = "not met: raised, alerted"
			case !es.RaisedMet:
				verdict = "not met: raised"
			case !es.AlertedMet:
				verdict = "not met: alerted"
			}
			fmt.Fprintf(&b, "| %s %s | %.0f km | %s | %s | %s | %d | %d | %d | %s |\n", es.Kind, es.Start.Format("15:04:05"), es.RadiusKm, seconds(es.Duration),
				cmp.Or(es.Incident, "-"), raised, es.Terminals, es.Honest, es.Alerted, verdict)
		}
	}
	b.WriteString("\nEvery detector, recall by kind of bad actor, and whom it flagged wrongly:\n\n| detector | flagged | precision |")
	for _, k := range r.Scores.Kinds {
		b.WriteString(" recall " + k + " |")
	}
	b.WriteString(" false positives |\n|---|---:|---:|" + strings.Repeat("---:|", len(r.Scores.Kinds)) + "---|\n")
	row := func(d detect.DetectorScore) {
		fmt.Fprintf(&b, "| %s | %s | %.3f |", d.Name, thousands(float64(d.Flagged)), d.Precision)
		for _, k := range d.Kinds {
			fmt.Fprintf(&b, " %.3f |", k.Recall)
		}
		fmt.Fprintf(&b, " %s |\n", countsText(r.FalsePositives[d.Name]))
	}
	for _, d := range r.Scores.Detectors {
		if d.Flagged > 0 {
			row(d)
		}
	}
	row(r.Scores.All)
	return b.String()
}

func (r *DetectionResult) duration() time.Duration {
	return time.Duration(r.SimSec * float64(time.Second))
}

// verdict says which targets t meets.
func (t TargetScore) verdict() string {
	if t.Met {
		return "met"
	}
	var miss []string
	for _, m := range []struct {
		ok   bool
		what string
	}{{t.PrecisionMet, "precision"}, {t.RecallMet, "recall"}, {t.DelayMet, "delay"}} {
		if m.what == "delay" && !m.ok && t.ClearDelayMet {
			m.what = "delay (met without those under interference)"
		}
		if !m.ok {
			miss = append(miss, m.what)
		}
	}
	return "not met: " + strings.Join(miss, ", ")
}

// seconds formats d in whole seconds of simulated time.
func seconds(d time.Duration) string { return fmt.Sprintf("%.0f s", d.Seconds()) }

// countsText renders counts as "a 3, b 1", largest first (ties by name),
// or "none".
func countsText(counts map[string]int) string {
	if len(counts) == 0 {
		return "none"
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(counts[b]-counts[a], strings.Compare(a, b)) })
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %s", n, thousands(float64(counts[n])))
	}
	return strings.Join(parts, ", ")
}

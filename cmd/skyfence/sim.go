package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/sim"
	"github.com/skyfence/skyfence/sim/replay"
)

const simUsage = `usage: skyfence sim [flags]

Makes up a fleet of terminals that move like real ones (homes, travellers,
ships, airliners, vehicles, sponsored terminals, and labelled bad actors:
smuggled terminals, drones, spoofers), from a seed, and replays their fixes
in simulated time: into a skyfence service in this process (an SQLite
database in a temporary directory, the built-in scenario policy), or with
--url into a running server over HTTP. A line a second on stderr shows the
world come alive; the summary, by behaviour and by reason, goes to stdout.

With --url the terminals are registered, verified and activated through
the API (the key must be an admin's; $SKYFENCE_KEY by default), and the
simulation starts once that is done unless --start says otherwise, so that
the verifications the server dated then are valid at the fixes' times. The
server refuses fixes dated more than 5 minutes ahead of its clock, so the
replay runs ahead of real time by 4 simulated minutes at most.

flags:
`

func runSim(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	var cfg sim.Config
	var opts replay.Options
	fs.IntVar(&cfg.Terminals, "terminals", 100_000, "fleet size")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the fleet: the same seed gives the same fleet and fixes")
	fs.DurationVar(&opts.Duration, "duration", 30*time.Minute, "simulated time to replay (bad actors turn bad within its first half)")
	fs.Float64Var(&opts.Speedup, "speedup", 60, "simulated seconds per real second (0: as fast as possible)")
	fs.DurationVar(&cfg.Interval, "interval", 15*time.Second, "how often each terminal reports")
	url := fs.String("url", "", "replay into the server at `URL` over HTTP instead of in process")
	key := fs.String("key", os.Getenv("SKYFENCE_KEY"), "API `key` for --url (admin)")
	labels := fs.String("labels", "", "write every terminal's label (behaviour, bad actor, when) as CSV to `file`")
	summary := fs.String("summary", "", "also write the summary as JSON to `file`")
	policyFile := fs.String("policy", "", "policy `file` (default the built-in scenario policy)")
	var start timeFlag
	fs.Var(&start, "start", "simulated start `time` (default 2026-06-15T00:00:00Z in process; with --url, once the fleet is registered)")
	fs.Usage = func() { fmt.Fprint(e.stderr, simUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, e); err != nil {
		return err
	}
	if *url != "" && *key == "" {
		return fmt.Errorf("--url needs --key (or $SKYFENCE_KEY)")
	}
	began := time.Now()
	snap, err := simPolicy(*policyFile)
	if err != nil {
		return err
	}
	cfg.Policy, cfg.Start, cfg.Duration = snap, start.t, opts.Duration
	fleet, err := sim.Generate(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "skyfence sim: %d terminals (seed %d) ready in %.1f s: %s\n", fleet.Len(), cfg.Seed, time.Since(began).Seconds(), mixLine(fleet))
	if *labels != "" {
		if err := writeLabels(*labels, fleet); err != nil {
			return err
		}
	}
	target, inproc, closeTarget, err := simTarget(ctx, snap, *url, *key, fleet.Len())
	if err != nil {
		return err
	}
	defer closeTarget()
	if err := target.Register(ctx, fleet, e.stderr); err != nil {
		return err
	}
	if start.t.IsZero() && *url != "" {
		// The server dated its verifications as it recorded them.
		fleet = fleet.At(time.Now().UTC().Truncate(time.Second).Add(time.Second))
	}
	fmt.Fprintf(e.stderr, "skyfence sim: replaying %v from %s at %gx\n", opts.Duration, fleet.Start().Format(time.RFC3339), opts.Speedup)
	opts.Progress = e.stderr
	if inproc != nil {
		opts.Dropped = inproc.Dropped
	}
	if *url != "" {
		// A server refuses fixes more than 5 minutes ahead of its clock.
		opts.Workers, opts.MaxAhead = 4, 4*time.Minute
		fmt.Fprintln(e.stderr, "skyfence sim: the server refuses fixes dated over 5 minutes ahead: past the first 4 simulated minutes the replay keeps to real time")
	}
	sum, err := replay.Run(ctx, fleet, target, opts)
	if sum != nil {
		fmt.Fprint(e.stdout, sum.Text())
		if werr := writeJSONFile(*summary, sum); err == nil {
			err = werr
		}
	}
	if inproc != nil && err == nil {
		alerts, st := inproc.StopDetection()
		printDetection(e.stdout, fleet, alerts, st)
	}
	return err
}

// printDetection says what detection raised during the replay and how well
// it did against the fleet's labels.
func printDetection(w io.Writer, f *sim.Fleet, alerts []detect.Alert, st detect.QueueStats) {
	labels := map[string]detect.Label{}
	for i := range f.Len() {
		if l := f.Label(i); l.Bad {
			labels[l.ID] = detect.Label{Kind: l.Behaviour.String(), Start: l.BadFrom}
		}
	}
	sc := detect.Score(alerts, labels)
	fmt.Fprintf(w, "\ndetection: %d decided fixes seen, %d dropped (queue full), %d alerts on %d terminals\n",
		st.Offered, st.Dropped, len(alerts), sc.All.Flagged)
	fmt.Fprintf(w, "%-18s %8s %9s", "detector", "flagged", "precision")
	for _, k := range sc.Kinds {
		fmt.Fprintf(w, " %12s", "recall "+k)
	}
	fmt.Fprintln(w)
	for _, d := range append(sc.Detectors, sc.All) {
		if d.Flagged == 0 {
			continue
		}
		fmt.Fprintf(w, "%-18s %8d %9.3f", d.Name, d.Flagged, d.Precision)
		for _, k := range d.Kinds {
			fmt.Fprintf(w, " %12.3f", k.Recall)
		}
		fmt.Fprintln(w)
	}
}

// simPolicy compiles the policy file, or the built-in scenario if file is "".
func simPolicy(file string) (*policy.Snapshot, error) {
	a, err := newAtlas()
	if err != nil {
		return nil, err
	}
	src, err := loadPolicy(file)
	if err != nil {
		return nil, policyError(file, err)
	}
	s, err := policy.Compile(src, a)
	if err != nil {
		return nil, policyError(file, err)
	}
	return s, nil
}

// simTarget returns where fixes go: the server at url, or a service in
// this process over a database in a temporary directory (then also
// returned as itself, for its detection).
func simTarget(ctx context.Context, snap *policy.Snapshot, url, key string, terminals int) (replay.Target, *replay.InProcess, func(), error) {
	if url != "" {
		return replay.NewHTTP(url, key), nil, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "skyfence-sim-")
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := replay.NewInProcess(ctx, snap, dir, terminals, slog.New(slog.DiscardHandler))
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	return p, p, func() {
		p.Close(context.Background())
		os.RemoveAll(dir)
	}, nil
}

func mixLine(f *sim.Fleet) string {
	var parts []string
	for b, n := range f.Counts() {
		parts = append(parts, fmt.Sprintf("%d %s", n, sim.Behaviour(b)))
	}
	return strings.Join(parts, ", ")
}

func writeLabels(file string, f *sim.Fleet) error {
	out, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := f.WriteLabels(out); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// writeJSONFile writes v as indented JSON to file, if file is not "".
func writeJSONFile(file string, v any) error {
	if file == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(b, '\n'), 0o644)
}

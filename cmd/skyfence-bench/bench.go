package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/skyfence/skyfence/bench"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/world"
)

const benchUsage = `usage: skyfence-bench [suite] [flags]

suites:
  all       locate and serve below, then decisions, impact previews at 1 M
            and 10 M terminals, memory per terminal, the moonshot (in the
            binary form of fixes; --wire json for JSON) and detection, in
            three to four minutes (the default); --write-doc updates
            docs/BENCHMARKS.md
  detect    the detectors over a simulated fleet with labelled bad actors:
            precision, recall and alert delays against the issue's targets
  moonshot  memory per terminal, then 670,000 fixes/s offered to the API
  locate    the point-in-region index against tidwall/geojson (Tile38's
            engine), golang/geo S2 and a flat table, on the same points
  serve     a server on loopback with a fleet of terminals, driven over HTTP
            with batches of fixes: decisions/s and batch latency

Results go to standard output as a Markdown table (and JSON with --json).

flags:
`

func runBench(ctx context.Context, e env) error {
	if len(e.args) == 0 || strings.HasPrefix(e.args[0], "-") {
		return runBenchAll(ctx, e)
	}
	switch e.args[0] {
	case "all":
		return runBenchAll(ctx, env{e.args[1:], e.stdout, e.stderr})
	case "moonshot":
		return runBenchMoonshot(ctx, env{e.args[1:], e.stdout, e.stderr})
	case "locate":
		return runBenchLocate(ctx, env{e.args[1:], e.stdout, e.stderr})
	case "serve":
		return runBenchServe(ctx, env{e.args[1:], e.stdout, e.stderr})
	case "detect":
		return runBenchDetect(ctx, env{e.args[1:], e.stdout, e.stderr})
	}
	fmt.Fprintf(e.stderr, "skyfence-bench: unknown suite %q\n", e.args[0])
	return errUsage
}

func runBenchLocate(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("bench locate", flag.ContinueOnError)
	res := fs.String("res", "10m", "boundary `resolution`: 10m or 110m")
	points := fs.Int("points", 1_000_000, "how many points (half uniform, half within 50 km of borders)")
	seed := fs.Uint64("seed", 1, "seed of the points")
	minTime := fs.Duration("min-time", 2*time.Second, "time each engine is measured for at least")
	engines := fs.String("engines", "", "comma-separated engines (default all: "+strings.Join(bench.EngineNames(), ",")+")")
	jsonOut := fs.String("json", "", "also write the result as JSON to `file`")
	fs.Usage = func() { fmt.Fprint(e.stderr, benchUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, e); err != nil {
		return err
	}
	r, err := world.ParseResolution(*res)
	if err != nil {
		return err
	}
	cfg := bench.LocateConfig{Resolution: r, Points: *points, Seed: *seed, MinTime: *minTime}
	if *engines != "" {
		cfg.Engines = strings.Split(*engines, ",")
	}
	result, err := bench.Locate(ctx, cfg, e.stderr)
	if err != nil {
		return err
	}
	fmt.Fprint(e.stdout, result.Markdown())
	return writeJSONFile(*jsonOut, result)
}

func runBenchServe(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("bench serve", flag.ContinueOnError)
	var cfg bench.ServeConfig
	fs.IntVar(&cfg.Terminals, "terminals", 1_000_000, "fleet size")
	fs.IntVar(&cfg.Batch, "batch", 1000, "fixes per request")
	fs.IntVar(&cfg.Connections, "connections", 4, "concurrent client connections")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to drive the server")
	fs.StringVar(&cfg.Policy, "policy", "examples/policy/policy.yaml", "policy `file`")
	detection := fs.Bool("detect", true, "run detection alongside, as skyfence serve does")
	jsonOut := fs.String("json", "", "also write the result as JSON to `file`")
	fs.Usage = func() { fmt.Fprint(e.stderr, benchUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, e); err != nil {
		return err
	}
	cfg.NoDetect = !*detection
	result, err := bench.Serve(ctx, cfg, e.stderr)
	if err != nil {
		return err
	}
	fmt.Fprint(e.stdout, result.Markdown())
	return writeJSONFile(*jsonOut, result)
}

// runBenchDetect scores the detectors against the simulator's labels
// (bench.Detection).
func runBenchDetect(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("bench detect", flag.ContinueOnError)
	var cfg bench.DetectionConfig
	fs.IntVar(&cfg.Terminals, "terminals", 100_000, "simulated fleet")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the fleet")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Minute, "simulated time replayed; bad actors turn bad in its first half")
	config := fs.String("config", "", "detection thresholds: a JSON `file` decoded over the defaults (docs/DETECTION.md)")
	confounders := fs.String("confounders", "both", "the simulator's confounders and adapting bad actors: `on`, off, or both (two runs)")
	jsonOut := fs.String("json", "", "also write the result as JSON to `file` (a list of the runs)")
	fs.Usage = func() { fmt.Fprint(e.stderr, benchUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, e); err != nil {
		return err
	}
	runs := map[string][]bool{"off": {false}, "on": {true}, "both": {false, true}}[*confounders]
	if runs == nil {
		fmt.Fprintf(e.stderr, "skyfence-bench detect: --confounders %q: want on, off or both\n", *confounders)
		return errUsage
	}
	if *config != "" {
		dc, err := detect.LoadConfig(*config)
		if err != nil {
			return err
		}
		cfg.Detect = &dc
	}
	snap, err := bench.Scenario()
	if err != nil {
		return err
	}
	var results []*bench.DetectionResult
	for k, on := range runs {
		cfg.Confounders = on
		res, err := bench.Detection(ctx, snap, cfg, e.stderr)
		if err != nil {
			return err
		}
		if k > 0 {
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprint(e.stdout, res.Markdown())
		results = append(results, res)
	}
	return writeJSONFile(*jsonOut, results)
}

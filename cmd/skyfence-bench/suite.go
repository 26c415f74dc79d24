package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/skyfence/skyfence/bench"
)

// runBenchAll runs the whole suite (bench.Suite) at full scale.
func runBenchAll(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("bench all", flag.ContinueOnError)
	cfg := bench.SuiteDefaults()
	parts := fs.String("parts", strings.Join(bench.Parts, ","), "comma-separated parts to run")
	jsonOut := fs.String("json", "", "also write the result as JSON to `file`")
	writeDoc := fs.Bool("write-doc", false, "rewrite the generated section of --doc with the result")
	doc := fs.String("doc", "docs/BENCHMARKS.md", "the `file` --write-doc rewrites, between "+bench.BeginMarker+" and "+bench.EndMarker)
	fs.StringVar(&cfg.Moonshot.CPUProfile, "cpuprofile", "", "write the CPU profile of the moonshot's load to `file` (go tool pprof -top FILE)")
	fs.StringVar(&cfg.Moonshot.Wire, "wire", "binary", "`form` of the moonshot's batches and answers: binary, the form meant for that load, or json")
	fs.Usage = func() { fmt.Fprint(e.stderr, benchUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, e); err != nil {
		return err
	}
	cfg.Parts = strings.Split(*parts, ",")
	res, err := bench.Suite(ctx, cfg, e.stderr)
	if err != nil {
		return err
	}
	md := res.Markdown()
	fmt.Fprint(e.stdout, md)
	if *writeDoc {
		if err := bench.WriteDoc(*doc, md); err != nil {
			return err
		}
	}
	return writeJSONFile(*jsonOut, res)
}

// runBenchMoonshot offers the HTTP API the moonshot's load (bench.Moonshot).
func runBenchMoonshot(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("bench moonshot", flag.ContinueOnError)
	var cfg bench.MoonshotConfig
	fs.IntVar(&cfg.Terminals, "terminals", 1_000_000, "simulated terminals registered in the server")
	fs.Float64Var(&cfg.Rate, "rate", 10_000_000.0/15, "offered fixes a second")
	fs.IntVar(&cfg.Batch, "batch", 1000, "fixes per request")
	fs.IntVar(&cfg.Connections, "connections", 16, "concurrent client connections")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long the load is offered")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write the CPU profile during the load to `file`")
	fs.StringVar(&cfg.Wire, "wire", "json", "`form` of the batches and answers: json, or binary (application/vnd.skyfence.fixes)")
	fs.BoolVar(&cfg.Detect, "detect", false, "run detection in the process, as serve does, and report what its queue dropped")
	jsonOut := fs.String("json", "", "also write the result as JSON to `file`")
	fs.Usage = func() { fmt.Fprint(e.stderr, benchUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, e); err != nil {
		return err
	}
	snap, err := bench.Scenario()
	if err != nil {
		return err
	}
	res, err := bench.Moonshot(ctx, snap, cfg, e.stderr)
	if err != nil {
		return err
	}
	fmt.Fprint(e.stdout, res.Markdown())
	return writeJSONFile(*jsonOut, res)
}

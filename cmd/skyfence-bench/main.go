// Command skyfence-bench measures skyfence against its peers and its
// targets: the suite whose figures docs/BENCHMARKS.md reports. It is a
// command of its own so that the serving binary (cmd/skyfence) links
// neither the benchmark drivers (package bench) nor the peer engines they
// compare against (bench/peers: tidwall/geojson, golang/geo's S2); run
// from a clone, `skyfence bench` builds and runs it.
//
// Usage:
//
//	skyfence-bench [suite] [flags]
//
// Run `skyfence-bench -h` for the suites and the flags of the whole suite,
// and `skyfence-bench <suite> -h` for the flags of one.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// env is what a suite may touch: its arguments and output streams.
type env struct {
	args   []string
	stdout io.Writer
	stderr io.Writer
}

// errUsage reports a command line that could not be parsed; the flag
// package, or the suite, has already printed why.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, env{os.Args[1:], os.Stdout, os.Stderr})
	stop()
	os.Exit(code)
}

// run runs the suite the arguments name and returns the exit status.
func run(ctx context.Context, e env) int {
	err := runBench(ctx, e)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(e.stderr, "skyfence-bench: %v\n", err)
	return 1
}

// parseFlags parses a suite's flags, printing errors and help to stderr.
func parseFlags(fs *flag.FlagSet, e env) error {
	fs.SetOutput(e.stderr)
	if err := fs.Parse(e.args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
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

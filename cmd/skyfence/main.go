// Command skyfence is the skyfence control plane: it decides, for every
// terminal of a satellite constellation, whether it may have service where
// it is.
//
// Usage:
//
//	skyfence <command> [flags]
//
// Run `skyfence help` for the commands, and `skyfence <command> -h` for the
// flags of one.
//
// It owns the wiring: flags, configuration, and which store, bus and
// servers run. It is the one package that imports every driver; nothing
// imports it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// env is what a command may touch: its arguments and standard streams.
type env struct {
	args   []string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env) error
}

func commands() []command {
	return []command{
		{"serve", "run the skyfence server (the embedded default: SQLite, built-in policy)", runServe},
		{"detect-worker", "run detection for a cluster whose authorizers publish their decided fixes (docs/CLUSTER.md)", runDetectWorker},
		{"change", "draft, propose, review, activate or roll back policy changes on a server", runChange},
		{"transparency", "write the public transparency report (HTML and JSON) from a store", runTransparency},
		{"locate", "answer the country (and zones) of lat,lon lines", runLocate},
		{"bench", "measure skyfence against its peers and its targets: runs cmd/skyfence-bench from a clone", runBench},
		{"sim", "simulate a fleet of terminals and replay its fixes, in process or into a server", runSim},
		{"policy", "check a policy file, say what changes between two, preview its impact (policy validate|diff|plan|schema)", runPolicy},
		{"decide", "decide whether terminals may have service at their fixes", runDecide},
		{"audit", "verify the audit log, or export it for verification without skyfence (audit verify|export)", runAudit},
	}
}

// errUsage reports a command line that could not be parsed; the flag
// package has already printed why.
var errUsage = errors.New("usage")

// errStopped reports a command a signal stopped before it had started
// (its message says so): a clean stop, exit status 0.
var errStopped = errors.New("stopped")

// exitError ends a command with a status but no further message: the command
// has said what went wrong.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, env{os.Args[1:], os.Stdin, os.Stdout, os.Stderr})
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e env) int {
	if len(e.args) == 0 || e.args[0] == "help" || e.args[0] == "-h" || e.args[0] == "--help" {
		usage(e.stderr)
		if len(e.args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != e.args[0] {
			continue
		}
		err := c.run(ctx, env{e.args[1:], e.stdin, e.stdout, e.stderr})
		var ee exitError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		case errors.As(err, &ee):
			return ee.code
		case errors.Is(err, errStopped):
			fmt.Fprintf(e.stderr, "skyfence %s: %v\n", c.name, err)
			return 0
		default:
			fmt.Fprintf(e.stderr, "skyfence %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(e.stderr, "skyfence: unknown command %q\n\n", e.args[0])
	usage(e.stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: skyfence <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'skyfence <command> -h' for a command's flags.")
}

// parseFlags parses a command's flags, printing errors and help to stderr.
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

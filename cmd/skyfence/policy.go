package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"sync"
	"time"

	"github.com/skyfence/skyfence/atlas"
	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/schema"
	"github.com/skyfence/skyfence/world"
)

const policyUsage = `usage: skyfence policy validate FILE
       skyfence policy diff [--at TIME] [--json] OLD NEW
       skyfence policy plan --fleet FILE [--at TIME] [--json] OLD NEW
       skyfence policy schema

validate checks a policy file, its zone files (relative to it) and what they
say against the built-in boundaries, and prints every problem, one a line:

	file:line:col: error|warning: message

(zone files give a JSON pointer instead of line:col), then a summary. The
exit status is 1 if there is an error; warnings alone do not fail.

diff compiles two policies and prints, in words, what changes from OLD to
NEW: settings, public statuses at --at, region entries, rules, plans, zones,
and an estimate of the area whose service turns off or on.

plan previews who gains and who loses service over a fleet (plan -h).

schema prints the JSON Schema of the policy format, for editors.
`

func runPolicy(ctx context.Context, e env) error {
	if len(e.args) == 0 {
		fmt.Fprint(e.stderr, policyUsage)
		return errUsage
	}
	sub := env{e.args[1:], e.stdin, e.stdout, e.stderr}
	switch e.args[0] {
	case "validate":
		return runPolicyValidate(sub)
	case "diff":
		return runPolicyDiff(sub)
	case "plan":
		return runPolicyPlan(sub)
	case "schema":
		if len(sub.args) > 0 {
			fmt.Fprint(e.stderr, policyUsage)
			return errUsage
		}
		_, err := e.stdout.Write(schema.Policy)
		return err
	case "-h", "--help", "help":
		fmt.Fprint(e.stderr, policyUsage)
		return flag.ErrHelp
	}
	fmt.Fprintf(e.stderr, "skyfence policy: unknown subcommand %q\n\n%s", e.args[0], policyUsage)
	return errUsage
}

func runPolicyValidate(e env) error {
	fs := flag.NewFlagSet("policy validate", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(e.stderr, policyUsage) }
	args, err := parseFlagsAnywhere(fs, e)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		fmt.Fprint(e.stderr, policyUsage)
		return errUsage
	}
	a, err := newAtlas()
	if err != nil {
		return err
	}
	src, probs, err := policy.Check(args[0], a)
	if err != nil {
		return err
	}
	for _, p := range probs {
		fmt.Fprintln(e.stdout, p)
	}
	errs := len(probs.Errors())
	summary := fmt.Sprintf("%s: %s, %s", args[0], plural(errs, "error"), plural(len(probs)-errs, "warning"))
	if src == nil {
		fmt.Fprintln(e.stdout, summary)
		return exitError{1}
	}
	fmt.Fprintf(e.stdout, "%s; version %s\n", summary, policy.Version(src, a))
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func runPolicyDiff(e env) error {
	fs := flag.NewFlagSet("policy diff", flag.ContinueOnError)
	at := timeFlag{t: time.Now()}
	fs.Var(&at, "at", "compare public statuses and time windows at `TIME` (RFC 3339; default now)")
	asJSON := fs.Bool("json", false, "print the change as JSON")
	fs.Usage = func() { fmt.Fprint(e.stderr, policyUsage); fs.PrintDefaults() }
	args, err := parseFlagsAnywhere(fs, e)
	if err != nil {
		return err
	}
	if len(args) != 2 {
		fmt.Fprint(e.stderr, policyUsage)
		return errUsage
	}
	before, after, err := compilePair(args[0], args[1])
	if err != nil {
		return err
	}
	c := policy.Diff(before, after, at.t)
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(c)
	}
	_, err = fmt.Fprint(e.stdout, c.Text())
	return err
}

// newAtlas returns the atlas of the embedded 1:10m boundaries, built once
// a process: an atlas is immutable, and building one takes about 2 s, which
// every server a test starts in the process would pay again.
var newAtlas = sync.OnceValues(func() (*atlas.Atlas, error) {
	d, err := world.Load(world.Res10m)
	if err != nil {
		return nil, err
	}
	return atlas.New(d, geoindex.Options{})
})

// compilePair compiles an old and a new policy over one atlas.
func compilePair(oldFile, newFile string) (before, after *policy.Snapshot, err error) {
	a, err := newAtlas()
	if err != nil {
		return nil, nil, err
	}
	if before, err = compilePolicy(oldFile, a); err != nil {
		return nil, nil, err
	}
	if after, err = compilePolicy(newFile, a); err != nil {
		return nil, nil, err
	}
	return before, after, nil
}

// compilePolicy loads and compiles a policy file. Its problems come back as
// one error, one problem a line.
func compilePolicy(file string, a *atlas.Atlas) (*policy.Snapshot, error) {
	src, err := policy.Load(file)
	if err != nil {
		return nil, policyError(file, err)
	}
	s, err := policy.Compile(src, a)
	if err != nil {
		return nil, policyError(file, err)
	}
	return s, nil
}

func policyError(file string, err error) error {
	var ps policy.Problems
	if errors.As(err, &ps) {
		return fmt.Errorf("%s has errors (run skyfence policy validate %s):\n%w", file, file, err)
	}
	return err
}

// timeFlag is a flag holding an RFC 3339 time.
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string { return f.t.Format(time.RFC3339) }

func (f *timeFlag) Set(s string) error {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("want an RFC 3339 time such as 2026-03-01T12:00:00Z")
	}
	f.t = t
	return nil
}

// parseFlagsAnywhere parses flags that may come before, between or after
// the positional arguments, and returns those. After "--" every argument
// is positional.
func parseFlagsAnywhere(fs *flag.FlagSet, e env) ([]string, error) {
	var args []string
	rest := e.args
	for {
		if err := parseFlags(fs, env{rest, e.stdin, e.stdout, e.stderr}); err != nil {
			return nil, err
		}
		left := fs.Args()
		if n := len(rest) - len(left); n > 0 && rest[n-1] == "--" {
			return append(args, left...), nil
		}
		if len(left) == 0 {
			return args, nil
		}
		args = append(args, left[0])
		rest = left[1:]
	}
}

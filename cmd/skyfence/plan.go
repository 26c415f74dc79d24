package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/policy"
)

const planUsage = `usage: skyfence policy plan --fleet FILE [--at TIME] [--json] [--keep-speed] [--list N] [--priority-plans P,Q] OLD NEW

plan previews what changing from policy OLD to policy NEW does to a fleet:
which terminals gain service, which lose it, which stay denied for another
reason, by country, plan, verification class and rule; the terminals that
lose service, verified ones and those on priority plans first; and what
changes in the policy, as "skyfence policy diff" says it.

Each terminal is decided where it was last seen, as if it were there at
--at and standing still (with --keep-speed, at the speed of its fix).

--fleet is a file of JSON lines (- for standard input), one terminal each:

	{"terminal": {"id": "UT-1", "plan": "roam", "country": "UA",
	  "status": "active", "verifications": [{"region": "UA",
	  "authority": "UA-MOD", "class": "military",
	  "verified_at": "2026-01-01T00:00:00Z"}]},
	 "fix": {"time": "2026-03-01T11:58:00Z", "lat": 48.0, "lon": 38.5}}

terminal is as for "skyfence decide" (status inactive if left out); fix is
the terminal's last known position, with speed_kmh (0 if left out) and
alt_m if known. A
terminal without a fix, or whose fix has no time, is counted as unlocated
and not decided. Days abroad and in coastal waters are not known from the
file: each terminal is taken to be on the first day of a trip. A
malformed line stops the command with its line number.

flags:
`

func runPolicyPlan(e env) error {
	fs := flag.NewFlagSet("policy plan", flag.ContinueOnError)
	fleet := fs.String("fleet", "", "the fleet: JSON lines in `FILE` (- for standard input)")
	at := timeFlag{t: time.Now()}
	fs.Var(&at, "at", "decide as at `TIME` (RFC 3339; default now)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	keepSpeed := fs.Bool("keep-speed", false, "decide at each fix's speed instead of standing still")
	list := fs.Int("list", 100, "list at most `N` terminals that lose service (0: none)")
	priority := fs.String("priority-plans", "sponsored", "terminals on these `plans` (comma-separated) are listed first when they lose service")
	fs.Usage = func() { fmt.Fprint(e.stderr, planUsage); fs.PrintDefaults() }
	args, err := parseFlagsAnywhere(fs, e)
	if err != nil {
		return err
	}
	switch {
	case len(args) != 2:
		fmt.Fprintf(e.stderr, "skyfence policy plan: want OLD and NEW, got %d arguments\n", len(args))
		return errUsage
	case *fleet == "":
		fmt.Fprintln(e.stderr, "skyfence policy plan: --fleet is required")
		return errUsage
	case *list < 0:
		fmt.Fprintln(e.stderr, "skyfence policy plan: --list is negative")
		return errUsage
	}
	opts := policy.ImpactOptions{KeepSpeed: *keepSpeed, ListLimit: *list, PriorityPlans: []string{}}
	if *list == 0 {
		opts.ListLimit = -1
	}
	for _, p := range strings.Split(*priority, ",") {
		if p = strings.TrimSpace(p); p != "" {
			opts.PriorityPlans = append(opts.PriorityPlans, p)
		}
	}
	terminals, err := readFleet(*fleet, e.stdin)
	if err != nil {
		return err
	}
	before, after, err := compilePair(args[0], args[1])
	if err != nil {
		return err
	}
	rep := policy.Impact(before, after, at.t, terminals, opts)
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	_, err = fmt.Fprint(e.stdout, rep.Text())
	return err
}

// fleetLine is one line of --fleet.
type fleetLine struct {
	Terminal *skyfence.Terminal `json:"terminal"`
	Fix      *skyfence.Fix      `json:"fix"`
}

// readFleet reads the JSON lines of --fleet.
func readFleet(file string, stdin io.Reader) ([]policy.ImpactInput, error) {
	in, name := stdin, "standard input"
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in, name = f, file
	}
	var out []policy.ImpactInput
	r := bufio.NewReader(in)
	for lineNo := 1; ; lineNo++ {
		line, rerr := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var fl fleetLine
			err := decodeStrict(line, &fl)
			switch {
			case err != nil:
			case fl.Terminal == nil:
				err = errors.New("missing terminal")
			case fl.Terminal.ID == "":
				err = errors.New("terminal: missing id")
			}
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, lineNo, err)
			}
			in := policy.ImpactInput{Terminal: fl.Terminal}
			if fl.Fix != nil {
				in.Fix = *fl.Fix
				in.Fix.TerminalID = fl.Terminal.ID
			}
			out = append(out, in)
		}
		if errors.Is(rerr, io.EOF) {
			return out, nil
		}
		if rerr != nil {
			return nil, rerr
		}
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
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

const decideUsage = `usage: skyfence decide --policy FILE --terminal JSON|@FILE --lat LAT --lon LON [--speed KMH] [--alt M] [--at TIME]
       skyfence decide --policy FILE --fixes FILE|- [--terminals FILE]

Decides whether a terminal may have service at a position, by the policy,
and prints the decision as indented JSON with a "message" for the
terminal's owner. --terminal is a terminal as JSON (or @FILE holding it):

	{"id": "UT-1", "plan": "roam", "country": "PL", "status": "active",
	 "groups": [...], "verifications": [{"region": "UA", "authority": "UA-MOD",
	 "class": "military", "verified_at": "2026-01-01T00:00:00Z"}]}

Unknown fields are an error. Without --speed the speed is not reported.

With --fixes, reads JSON lines (- for standard input), one fix each:

	{"terminal": {...} or "terminal_id": "UT-1", "time": "2026-03-01T12:00:00Z",
	 "lat": 50.45, "lon": 30.52, "speed_kmh": 40, "alt_m": 120}

speed_kmh and alt_m may be left out. terminal_id names a terminal of
--terminals (JSON lines of terminals); one it does not list is decided as
unknown. The fixes of each terminal are decided in order with its track, so
a speed not reported is derived from the previous fix and days abroad add
up. Writes one JSON line per fix: its line number, terminal_id and time,
then the decision. A malformed line is reported on standard error with its
line number and left out; the others are still decided, and the exit
status is 1 at the end.

flags:
`

func runDecide(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("decide", flag.ContinueOnError)
	policyFile := fs.String("policy", "", "the policy `FILE`")
	terminal := fs.String("terminal", "", "the terminal as `JSON`, or @FILE")
	lat := fs.Float64("lat", 0, "latitude in degrees")
	lon := fs.Float64("lon", 0, "longitude in degrees")
	speed := fs.Float64("speed", 0, "reported ground speed in `km/h` (default: not reported)")
	alt := fs.Float64("alt", 0, "altitude in `metres` above sea level")
	at := timeFlag{t: time.Now()}
	fs.Var(&at, "at", "time of the fix, RFC 3339 (default now)")
	fixes := fs.String("fixes", "", "decide the fixes of JSON lines in `FILE` (- for standard input)")
	terminals := fs.String("terminals", "", "JSON lines of terminals in `FILE`, for the fixes' terminal_id")
	fs.Usage = func() { fmt.Fprint(e.stderr, decideUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, e); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if msg := decideFlagProblem(fs, set); msg != "" {
		fmt.Fprintf(e.stderr, "skyfence decide: %s\n", msg)
		return errUsage
	}
	if set["speed"] && *speed < 0 {
		fmt.Fprintf(e.stderr, "skyfence decide: --speed %v is negative; leave it out if the speed is not reported\n", *speed)
		return errUsage
	}
	var t skyfence.Terminal
	if !set["fixes"] {
		var err error
		if t, err = decodeTerminal(*terminal); err != nil {
			return fmt.Errorf("--terminal: %w", err)
		}
	}
	a, err := newAtlas()
	if err != nil {
		return err
	}
	s, err := compilePolicy(*policyFile, a)
	if err != nil {
		return err
	}
	if set["fixes"] {
		return decideBatch(ctx, e, s, *fixes, *terminals)
	}
	f := skyfence.Fix{TerminalID: t.ID, Time: at.t, Lat: *lat, Lon: *lon, AltM: *alt, SpeedKmh: skyfence.NoSpeed}
	if set["speed"] {
		f.SpeedKmh = *speed
	}
	d := s.Decide(&t, nil, f)
	out, err := json.MarshalIndent(decisionOut{d, d.Message()}, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", out)
	return err
}

// decideFlagProblem says what is wrong with the combination of flags set,
// or "".
func decideFlagProblem(fs *flag.FlagSet, set map[string]bool) string {
	switch {
	case fs.NArg() > 0:
		return fmt.Sprintf("unexpected argument %q", fs.Arg(0))
	case !set["policy"]:
		return "--policy is required"
	case set["fixes"]:
		for _, name := range []string{"terminal", "lat", "lon", "speed", "alt", "at"} {
			if set[name] {
				return "--" + name + " is for one fix; with --fixes each line gives its own"
			}
		}
	case set["terminals"]:
		return "--terminals is for --fixes"
	case !set["terminal"] || !set["lat"] || !set["lon"]:
		return "give --terminal, --lat and --lon (or --fixes)"
	}
	return ""
}

// decisionOut is a decision as the command prints it.
type decisionOut struct {
	policy.Decision
	Message string `json:"message"`
}

// decisionLine is the output for one line of --fixes.
type decisionLine struct {
	Line       int       `json:"line"`
	TerminalID string    `json:"terminal_id"`
	Time       time.Time `json:"time"`
	decisionOut
}

// fixLine is one line of --fixes.
type fixLine struct {
	Terminal   *skyfence.Terminal `json:"terminal"`
	TerminalID string             `json:"terminal_id"`
	Time       time.Time          `json:"time"`
	Lat        *float64           `json:"lat"`
	Lon        *float64           `json:"lon"`
	SpeedKmh   *float64           `json:"speed_kmh"`
	AltM       float64            `json:"alt_m"`
}

// decodeTerminal reads a terminal from JSON, or from the file named after
// an @.
func decodeTerminal(arg string) (skyfence.Terminal, error) {
	data := []byte(arg)
	if name, ok := strings.CutPrefix(arg, "@"); ok {
		var err error
		if data, err = os.ReadFile(name); err != nil {
			return skyfence.Terminal{}, err
		}
	}
	var t skyfence.Terminal
	err := decodeStrict(data, &t)
	return t, err
}

// decodeStrict decodes one JSON value, refusing unknown fields and
// anything after the value.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty")
		}
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("more than one JSON value")
	}
	return nil
}

// readTerminals reads JSON lines of terminals into a map by id.
func readTerminals(file string) (map[string]*skyfence.Terminal, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	out := map[string]*skyfence.Terminal{}
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		t := &skyfence.Terminal{}
		switch err := decodeStrict(line, t); {
		case err != nil:
			return nil, fmt.Errorf("%s:%d: %w", file, i+1, err)
		case t.ID == "":
			return nil, fmt.Errorf("%s:%d: missing id", file, i+1)
		case out[t.ID] != nil:
			return nil, fmt.Errorf("%s:%d: terminal %q listed twice", file, i+1, t.ID)
		}
		out[t.ID] = t
	}
	return out, nil
}

// batchDecider decides the fixes of JSON lines, keeping a track per
// terminal.
type batchDecider struct {
	s         *policy.Snapshot
	terminals map[string]*skyfence.Terminal // nil without --terminals
	tracks    map[string]*policy.Track
}

func decideBatch(ctx context.Context, e env, s *policy.Snapshot, fixesFile, terminalsFile string) error {
	b := &batchDecider{s: s, tracks: map[string]*policy.Track{}}
	if terminalsFile != "" {
		var err error
		if b.terminals, err = readTerminals(terminalsFile); err != nil {
			return err
		}
	}
	in := e.stdin
	if fixesFile != "-" {
		f, err := os.Open(fixesFile)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	r := bufio.NewReader(in)
	w := bufio.NewWriter(e.stdout)
	enc := json.NewEncoder(w)
	bad := 0
	for lineNo := 1; ; lineNo++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, rerr := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			out, err := b.decide(line, lineNo)
			if err != nil {
				fmt.Fprintf(e.stderr, "line %d: %v\n", lineNo, err)
				bad++
			} else if err := enc.Encode(out); err != nil {
				return err
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if bad > 0 {
		fmt.Fprintf(e.stderr, "skyfence decide: %s left out\n", plural(bad, "malformed line"))
		return exitError{1}
	}
	return nil
}

// decide decides one line and records the fix in its terminal's track.
func (b *batchDecider) decide(line []byte, lineNo int) (*decisionLine, error) {
	var fl fixLine
	if err := decodeStrict(line, &fl); err != nil {
		return nil, err
	}
	t, err := b.terminal(&fl)
	if err != nil {
		return nil, err
	}
	switch {
	case fl.Time.IsZero():
		return nil, errors.New("missing time")
	case fl.Lat == nil || fl.Lon == nil:
		return nil, errors.New("missing lat or lon")
	case fl.SpeedKmh != nil && *fl.SpeedKmh < 0:
		return nil, fmt.Errorf("speed_kmh %v is negative; leave it out if the speed is not reported", *fl.SpeedKmh)
	}
	id := fl.TerminalID
	if t != nil {
		id = t.ID
	}
	f := skyfence.Fix{TerminalID: id, Time: fl.Time, Lat: *fl.Lat, Lon: *fl.Lon, AltM: fl.AltM, SpeedKmh: skyfence.NoSpeed}
	if fl.SpeedKmh != nil {
		f.SpeedKmh = *fl.SpeedKmh
	}
	var tr *policy.Track
	if t != nil {
		if tr = b.tracks[t.ID]; tr == nil {
			tr = &policy.Track{}
			b.tracks[t.ID] = tr
		}
	}
	d := b.s.Decide(t, tr, f)
	if t != nil {
		tr.Observe(f, &d, t.Country)
	}
	return &decisionLine{Line: lineNo, TerminalID: id, Time: fl.Time, decisionOut: decisionOut{d, d.Message()}}, nil
}

// terminal returns the terminal of a line: given inline, or found by id
// (nil if --terminals does not list it).
func (b *batchDecider) terminal(fl *fixLine) (*skyfence.Terminal, error) {
	switch {
	case fl.Terminal != nil && fl.TerminalID != "":
		return nil, errors.New("give terminal or terminal_id, not both")
	case fl.Terminal != nil:
		if fl.Terminal.ID == "" {
			return nil, errors.New("terminal: missing id")
		}
		return fl.Terminal, nil
	case fl.TerminalID == "":
		return nil, errors.New("missing terminal or terminal_id")
	case b.terminals == nil:
		return nil, errors.New("terminal_id needs --terminals")
	}
	return b.terminals[fl.TerminalID], nil
}

package replay

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/sim"
)

// Summary is what a replay did: fixes sent and their decisions, in all,
// by reason and by behaviour. It marshals to JSON.
type Summary struct {
	Terminals   int     `json:"terminals"`
	SimSeconds  float64 `json:"sim_s"`
	WallSeconds float64 `json:"wall_s"`
	Speedup     float64 `json:"speedup"` // asked for; 0 as fast as possible
	// Achieved is simulated seconds per real second over the run.
	Achieved    float64 `json:"achieved_speedup"`
	Fixes       int64   `json:"fixes"`
	FixesPerSec float64 `json:"fixes_per_s"` // in real time
	Allowed     int64   `json:"allowed"`
	Refused     int64   `json:"refused"` // not applied: the fix's result was an error
	// Reasons counts decisions by reason code, every reason listed.
	Reasons     map[string]int64   `json:"reasons"`
	ByBehaviour []BehaviourSummary `json:"by_behaviour"`

	counts counts
	fleet  [sim.NumBehaviours]int // terminals of each behaviour
}

// BehaviourSummary is one behaviour's share of a replay.
type BehaviourSummary struct {
	Behaviour string           `json:"behaviour"`
	Bad       bool             `json:"bad"`
	Terminals int              `json:"terminals"`
	Fixes     int64            `json:"fixes"`
	Allowed   int64            `json:"allowed"`
	Refused   int64            `json:"refused"`
	Reasons   map[string]int64 `json:"reasons"` // only reasons that occurred
}

func newSummary(f *sim.Fleet, opts Options) *Summary {
	return &Summary{Terminals: f.Len(), Speedup: opts.Speedup, fleet: f.Counts()}
}

// add adds a worker's counts.
func (s *Summary) add(c *counts) {
	for b := range c {
		for r, n := range c[b] {
			s.counts[b][r] += n
			s.Fixes += n
		}
	}
}

// finish fills in the totals from the counts once the run is over.
func (s *Summary) finish(wall time.Duration) {
	s.WallSeconds = wall.Seconds()
	if s.WallSeconds > 0 {
		s.Achieved = s.SimSeconds / s.WallSeconds
		s.FixesPerSec = float64(s.Fixes) / s.WallSeconds
	}
	s.Reasons = make(map[string]int64)
	for _, r := range policy.Reasons() {
		s.Reasons[r.String()] = 0
	}
	s.ByBehaviour = s.ByBehaviour[:0]
	for b := range s.counts {
		bs := BehaviourSummary{Behaviour: sim.Behaviour(b).String(), Bad: sim.Behaviour(b).Bad(), Terminals: s.fleet[b], Reasons: map[string]int64{}}
		for r, n := range s.counts[b] {
			if n == 0 {
				continue
			}
			bs.Fixes += n
			if r == policy.NumReasons {
				bs.Refused += n
				continue
			}
			bs.Reasons[reasonName(r)] += n
			s.Reasons[reasonName(r)] += n
			if policy.Reason(r) == policy.Ok {
				bs.Allowed += n
			}
		}
		s.Allowed += bs.Allowed
		s.Refused += bs.Refused
		s.ByBehaviour = append(s.ByBehaviour, bs)
	}
}

// Text returns the summary for people: the totals, a line per behaviour
// with its three commonest reasons, and every reason that occurred.
func (s *Summary) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "simulated %s of %s terminals in %.1f s (%.1fx): %s fixes, %s a second, %s allowed (%.1f%%), %s refused\n\n",
		clock(time.Duration(s.SimSeconds)*time.Second), thousands(float64(s.Terminals)), s.WallSeconds, s.Achieved,
		thousands(float64(s.Fixes)), thousands(s.FixesPerSec), thousands(float64(s.Allowed)), pct(s.Allowed, s.Fixes), thousands(float64(s.Refused)))
	fmt.Fprintf(&b, "%-12s %-4s %10s %12s %8s  %s\n", "behaviour", "bad", "terminals", "fixes", "allowed", "commonest decisions")
	for _, bs := range s.ByBehaviour {
		bad := ""
		if bs.Bad {
			bad = "yes"
		}
		var top []string
		for _, r := range sortedReasons(bs.Reasons)[:min(3, len(bs.Reasons))] {
			top = append(top, fmt.Sprintf("%s %.1f%%", r, pct(bs.Reasons[r], bs.Fixes)))
		}
		if bs.Refused > 0 {
			top = append(top, fmt.Sprintf("refused %.1f%%", pct(bs.Refused, bs.Fixes)))
		}
		fmt.Fprintf(&b, "%-12s %-4s %10s %12s %7.1f%%  %s\n", bs.Behaviour, bad, thousands(float64(bs.Terminals)),
			thousands(float64(bs.Fixes)), pct(bs.Allowed, bs.Fixes), strings.Join(top, ", "))
	}
	b.WriteString("\ndecisions by reason:\n")
	for _, r := range sortedReasons(s.Reasons) {
		if n := s.Reasons[r]; n > 0 {
			fmt.Fprintf(&b, "  %-22s %12s  %5.1f%%\n", r, thousands(float64(n)), pct(n, s.Fixes))
		}
	}
	return b.String()
}

// sortedReasons returns the keys of m, most frequent first, then by name.
func sortedReasons(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b)) })
	return keys
}

func pct(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

// thousands formats v rounded to a whole number with commas: 1,234,567.
func thousands(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

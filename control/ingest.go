package control

import (
	"context"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/policy"
)

// Result is the outcome of one fix of a batch: a decision, or an error if
// the fix was refused (not applied): *skyfence.Error with EINVALID for a
// malformed fix, ECONFLICT for one not newer than the terminal's last.
type Result struct {
	Decision policy.Decision
	Err      error
}

// MaxBatch is the most fixes one Ingest call takes.
const MaxBatch = 10000

// MaxClockSkew is how far ahead of the server's clock a fix's time may be.
const MaxClockSkew = 5 * time.Minute

// Ingest decides every fix of a batch with the active policy, in order, and
// records each applied fix as its terminal's last. Results are per fix:
// each fix is applied or refused on its own (a refused fix changes
// nothing), so a gateway resends only the refused ones. out must be at
// least as long as fixes.
//
// A fix for an unknown terminal is decided (unknown_terminal), not refused.
// A fix whose time is not after the terminal's last applied fix is refused
// with ECONFLICT: skyfence does not apply fixes out of order, and a resent
// batch is answered without applying anything twice.
func (s *Service) Ingest(ctx context.Context, fixes []skyfence.Fix, out []Result) error {
	if _, err := require(ctx, IngestFixes); err != nil {
		return err
	}
	if len(fixes) > MaxBatch {
		return skyfence.Errorf(skyfence.ETOOLARGE, "a batch holds at most %d fixes, got %d", MaxBatch, len(fixes))
	}
	snap := s.snap.Load()
	now := s.now()
	var locs [locateChunk]policy.Location
	var obs [locateChunk]detect.Observation
	for base := 0; base < len(fixes); base += locateChunk {
		n := min(locateChunk, len(fixes)-base)
		snap.Locate(fixes[base:base+n], locs[:n])
		k := 0
		for i := 0; i < n; i++ {
			var t *skyfence.Terminal
			out[base+i], t = s.ingestOne(snap, &fixes[base+i], locs[i], now)
			if s.detect != nil && t != nil && out[base+i].Err == nil {
				obs[k] = detect.Observation{Terminal: t, Fix: fixes[base+i], Decision: out[base+i].Decision, Received: now}
				k++
			}
		}
		if k > 0 {
			s.detect.OfferBatch(obs[:k]) // never blocks: a full queue drops, counted
		}
	}
	s.Stats.Fixes.Add(uint64(len(fixes)))
	return nil
}

// locateChunk is how many fixes Ingest locates together, before taking
// each terminal's lock in turn.
const locateChunk = 64

// ingestOne decides one fix; it returns the terminal's record if the fix
// was applied to a known terminal (for detection).
func (s *Service) ingestOne(snap *policy.Snapshot, f *skyfence.Fix, loc policy.Location, now time.Time) (Result, *skyfence.Terminal) {
	if f.TerminalID == "" {
		s.Stats.Rejected.Add(1)
		return Result{Err: skyfence.FieldErrorf(skyfence.EINVALID, "terminal_id", "missing terminal id")}, nil
	}
	if f.Time.After(now.Add(MaxClockSkew)) {
		// Applied, a fix from the future would make every real fix after
		// it look out of order until that time came.
		s.Stats.Rejected.Add(1)
		return Result{Err: skyfence.FieldErrorf(skyfence.EINVALID, "time", "fix at %s is more than %v ahead of the server's clock", f.Time.Format(time.RFC3339Nano), MaxClockSkew)}, nil
	}
	sl := s.slotFor(f.TerminalID, false)
	if sl == nil {
		d := snap.Decide(nil, nil, *f)
		s.Stats.Decisions[d.Reason].Add(1)
		return Result{Decision: d}, nil
	}
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if last := sl.lastFix.Time; !last.IsZero() && !f.Time.After(last) {
		s.Stats.Rejected.Add(1)
		return Result{Err: skyfence.FieldErrorf(skyfence.ECONFLICT, "time",
			"fix at %s is not after the terminal's last fix at %s", f.Time.Format(time.RFC3339Nano), last.Format(time.RFC3339Nano))}, nil
	}
	t := sl.term.Load()
	d := snap.DecideAt(t, &sl.track, *f, loc)
	s.Stats.Decisions[d.Reason].Add(1)
	if d.Reason == policy.PositionInvalid {
		s.Stats.Rejected.Add(1)
		return Result{Decision: d}, nil
	}
	sl.track.Observe(*f, &d, t.Country)
	changed := sl.decision.Reason != d.Reason || sl.decision.Country != d.Country || sl.decision.Rule != d.Rule
	sl.lastFix, sl.decision, sl.decided = *f, d, now
	if changed || sl.worthSaving(f) {
		s.markDirty(sl)
	}
	return Result{Decision: d}, t
}

// State returns the last fix and decision of a terminal.
func (s *Service) State(ctx context.Context, id string) (*skyfence.TerminalState, error) {
	if _, err := require(ctx, ReadTerminals); err != nil {
		return nil, err
	}
	sl := s.slotFor(id, false)
	if sl == nil {
		return nil, skyfence.Errorf(skyfence.ENOTFOUND, "no terminal %q", id)
	}
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if sl.decided.IsZero() {
		return nil, skyfence.Errorf(skyfence.ENOTFOUND, "terminal %q has sent no fix", id)
	}
	return sl.snapshotState(), nil
}

// ForEachState calls fn with each terminal's registry record and last state
// (nil if it has sent no fix): what an impact preview runs over.
func (s *Service) ForEachState(fn func(t *skyfence.Terminal, last *skyfence.Fix, d *policy.Decision) bool) {
	s.slots.Range(func(_, v any) bool {
		sl := v.(*slot)
		t := sl.term.Load()
		if t == nil {
			return true
		}
		sl.mu.Lock()
		f, d, ok := sl.lastFix, sl.decision, !sl.decided.IsZero()
		sl.mu.Unlock()
		if !ok {
			return fn(t, nil, nil)
		}
		return fn(t, &f, &d)
	})
}

// preview is the impact of replacing old by next over every terminal's
// last known position.
func (s *Service) preview(old, next *policy.Snapshot) *policy.ImpactReport {
	var in []policy.ImpactInput
	s.ForEachState(func(t *skyfence.Terminal, last *skyfence.Fix, _ *policy.Decision) bool {
		item := policy.ImpactInput{Terminal: t}
		if last != nil {
			item.Fix = *last
		}
		in = append(in, item)
		return true
	})
	return policy.Impact(old, next, s.now(), in, policy.ImpactOptions{})
}

package authorizer

import (
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

// MaxServingCellLen is the longest serving cell (or beam) id a fix may carry.
const MaxServingCellLen = 64

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
// batch is answered without applying anything twice. A batch of more than
// MaxBatch fixes is refused whole (ETOOLARGE).
//
// Ingest checks no permission: the caller has asked control whether its
// principal may ingest (control.MayIngest).
func (c *Core) Ingest(fixes []skyfence.Fix, out []Result) error {
	if len(fixes) > MaxBatch {
		return skyfence.Errorf(skyfence.ETOOLARGE, "a batch holds at most %d fixes, got %d", MaxBatch, len(fixes))
	}
	snap := c.snap.Load()
	now := c.now()
	var locs [locateChunk]policy.Location
	var slots [locateChunk]*slot
	var obs [locateChunk]detect.Observation
	// The terminal's record, made from its slot for each decision.
	var rec skyfence.Terminal
	var verifs [4]skyfence.Verification
	for base := 0; base < len(fixes); base += locateChunk {
		n := min(locateChunk, len(fixes)-base)
		snap.Locate(fixes[base:base+n], locs[:n])
		c.slots.getBatch(fixes[base:base+n], slots[:n])
		// Detection keeps the records it is offered until it has read
		// them: one allocation a chunk holds them.
		var recs []skyfence.Terminal
		if c.detect != nil {
			recs = make([]skyfence.Terminal, n)
		}
		k := 0
		for i := 0; i < n; i++ {
			t, buf := &rec, verifs[:]
			if recs != nil {
				t, buf = &recs[i], nil
			}
			var applied bool
			out[base+i], applied = c.ingestOne(snap, slots[i], &fixes[base+i], locs[i], now, t, buf)
			if recs != nil && applied {
				obs[k] = detect.Observation{Terminal: t, Fix: fixes[base+i], Decision: out[base+i].Decision, Received: now}
				k++
			}
		}
		if k > 0 {
			c.detect.OfferBatch(obs[:k]) // never blocks: a full queue drops, counted
		}
	}
	c.Stats.Fixes.Add(uint64(len(fixes)))
	return nil
}

// locateChunk is how many fixes Ingest locates together, before taking
// each terminal's lock in turn.
const locateChunk = 64

// ingestOne decides one fix for the terminal's slot sl (nil if unknown),
// making the terminal's record into t (its verifications into buf if they
// fit); it reports whether the fix was applied to a known terminal (so t
// is its record, for detection).
func (c *Core) ingestOne(snap *policy.Snapshot, sl *slot, f *skyfence.Fix, loc policy.Location, now time.Time, t *skyfence.Terminal, buf []skyfence.Verification) (Result, bool) {
	if f.TerminalID == "" {
		c.Stats.Rejected.Add(1)
		return Result{Err: skyfence.FieldErrorf(skyfence.EINVALID, "terminal_id", "missing terminal id")}, false
	}
	if f.Time.After(now.Add(MaxClockSkew)) {
		// Applied, a fix from the future would make every real fix after
		// it look out of order until that time came.
		c.Stats.Rejected.Add(1)
		return Result{Err: skyfence.FieldErrorf(skyfence.EINVALID, "time", "fix at %s is more than %v ahead of the server's clock", f.Time.Format(time.RFC3339Nano), MaxClockSkew)}, false
	}
	if len(f.ServingCell) > MaxServingCellLen {
		c.Stats.Rejected.Add(1)
		return Result{Err: skyfence.FieldErrorf(skyfence.EINVALID, "cell", "a serving cell or beam id is at most %d bytes, got %d", MaxServingCellLen, len(f.ServingCell))}, false
	}
	if !f.Time.IsZero() && f.Time.Before(minFixTime) {
		// A terminal's times are kept in Unix nanoseconds.
		c.Stats.Rejected.Add(1)
		return Result{Err: skyfence.FieldErrorf(skyfence.EINVALID, "time", "fix at %s is before 1970", f.Time.Format(time.RFC3339Nano))}, false
	}
	if sl != nil {
		sl.mu.Lock()
		defer sl.mu.Unlock()
	}
	if sl == nil || sl.profile == 0 {
		d := snap.Decide(nil, nil, *f)
		c.Stats.Decisions[d.Reason].Add(1)
		return Result{Decision: d}, false
	}
	if last := timeOf(sl.at); sl.at != noTime && !f.Time.After(last) {
		c.Stats.Rejected.Add(1)
		return Result{Err: skyfence.FieldErrorf(skyfence.ECONFLICT, "time",
			"fix at %s is not after the terminal's last fix at %s", f.Time.Format(time.RFC3339Nano), last.Format(time.RFC3339Nano))}, false
	}
	c.slots.record(sl, t, buf)
	d := snap.DecideAt(t, &sl.track, *f, loc)
	c.Stats.Decisions[d.Reason].Add(1)
	if d.Reason == policy.PositionInvalid {
		c.Stats.Rejected.Add(1)
		return Result{Decision: d}, false
	}
	sl.track.Observe(*f, &d, t.Country)
	changed := sl.decided == noTime || sl.reason != d.Reason ||
		c.slots.strs.str(sl.place) != d.Country || c.slots.strs.str(sl.rule) != d.Rule
	c.slots.setLast(sl, f, &d, now)
	if changed || sl.worthSaving(f) {
		c.markDirty(sl)
	}
	return Result{Decision: d}, true
}

// minFixTime is the earliest time a fix may have, but for the zero time
// (decided as an invalid position).
var minFixTime = time.Unix(0, 0)

// State returns the last fix and decision of a terminal; ENOTFOUND if the
// terminal is not known or has sent no fix.
func (c *Core) State(id string) (*skyfence.TerminalState, error) {
	sl := c.slots.get(id)
	if sl == nil {
		return nil, skyfence.Errorf(skyfence.ENOTFOUND, "no terminal %q", id)
	}
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if sl.decided == noTime {
		return nil, skyfence.Errorf(skyfence.ENOTFOUND, "terminal %q has sent no fix", id)
	}
	st := new(skyfence.TerminalState)
	c.slots.state(sl, st, make([]byte, trackSize))
	return st, nil
}

// ForEachState calls fn with each terminal's registry record and last state
// (nil if it has sent no fix), in the order the terminals were loaded or
// made: what an impact preview runs over. The record is what decisions
// read of it (no times, no verification ids: those are in the store). t,
// last, d and t.Verifications are reused from call to call: copy what fn
// keeps (strings and t.Groups may be kept, not modified). The decision
// holds what the store keeps of it: Allow, Reason, Rule, Country and
// PolicyVersion.
func (c *Core) ForEachState(fn func(t *skyfence.Terminal, last *skyfence.Fix, d *policy.Decision) bool) {
	var t skyfence.Terminal
	var f skyfence.Fix
	var d policy.Decision
	var buf []skyfence.Verification
	c.slots.each(func(sl *slot) bool {
		sl.mu.Lock()
		if sl.profile == 0 {
			sl.mu.Unlock()
			return true
		}
		c.slots.record(sl, &t, buf)
		if cap(t.Verifications) > cap(buf) {
			buf = t.Verifications[:cap(t.Verifications)]
		}
		ok := sl.decided != noTime
		if ok {
			f, d = c.slots.lastFix(sl), c.slots.decision(sl)
		}
		sl.mu.Unlock()
		if !ok {
			return fn(&t, nil, nil)
		}
		return fn(&t, &f, &d)
	})
}

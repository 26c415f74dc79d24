package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

// state returns a state of the terminal as a store returns it (its
// Fix.TerminalID set), with values from r.
func state(id string, r *rand.Rand, at time.Time) *skyfence.TerminalState {
	lat, lon := r.Float64()*180-90, r.Float64()*360-180
	s := &skyfence.TerminalState{
		TerminalID: id,
		Fix: skyfence.Fix{
			TerminalID: id, Time: at.UTC(), Lat: lat, Lon: lon, AltM: r.Float64() * 1000,
			SpeedKmh: skyfence.NoSpeed, ServingCell: skyfence.CellOf(lat, lon),
		},
		Allow: r.IntN(2) == 0, Reason: "speed_cap", Rule: "ua-speed", Country: "UA", Policy: "v42",
		DecidedAt: at.Add(time.Millisecond + time.Nanosecond).UTC(),
	}
	if r.IntN(4) != 0 {
		s.Track = fmt.Appendf(nil, "track of %s %x", id, r.Uint64())
	}
	return s
}

// states returns n states of terminals s0000000.. as a store returns them.
func states(n int, seed uint64, at time.Time) []*skyfence.TerminalState {
	r := rand.New(rand.NewPCG(seed, 1))
	ss := make([]*skyfence.TerminalState, n)
	for i := range ss {
		ss[i] = state(fmt.Sprintf("s%07d", i), r, at)
	}
	return ss
}

// allStates returns every state of the store through ForEachState.
func allStates(t *testing.T, s skyfence.Store) []*skyfence.TerminalState {
	t.Helper()
	var got []*skyfence.TerminalState
	if err := s.ForEachState(t.Context(), func(st *skyfence.TerminalState) error {
		got = append(got, st)
		return nil
	}); err != nil {
		t.Fatalf("ForEachState: %v", err)
	}
	return got
}

func testStates(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	ss := states(300, 7, t0)
	ss[0].Track = nil
	ss[1].Fix.SpeedKmh, ss[1].Fix.ServingCell = 87.5, ""
	ss[2].Fix.Time, ss[2].DecidedAt = time.Time{}, time.Time{}
	shuffled := append([]*skyfence.TerminalState(nil), ss...)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	if err := s.SaveStates(ctx, shuffled[:200]); err != nil {
		t.Fatalf("SaveStates: %v", err)
	}
	if err := s.SaveStates(ctx, shuffled[200:]); err != nil {
		t.Fatalf("SaveStates: %v", err)
	}
	got, err := s.FindState(ctx, ss[1].TerminalID)
	if err != nil {
		t.Fatalf("FindState: %v", err)
	}
	same(t, "FindState", got, ss[1])
	same(t, "ForEachState (in terminal id order)", allStates(t, s), ss)

	// Upsert: half of them change, and new ones come; of two states of one
	// terminal in a batch, the later wins.
	r := rand.New(rand.NewPCG(9, 9))
	var batch []*skyfence.TerminalState
	for i := 0; i < len(ss); i += 2 {
		batch = append(batch, state(ss[i].TerminalID, r, t0.Add(time.Minute)))
		ss[i] = state(ss[i].TerminalID, r, t0.Add(2*time.Minute))
		batch = append(batch, ss[i])
	}
	for i := range 5 {
		n := state(fmt.Sprintf("s%07d", 1000+i), r, t0)
		batch, ss = append(batch, n), append(ss, n)
	}
	if err := s.SaveStates(ctx, batch); err != nil {
		t.Fatalf("SaveStates(upserts): %v", err)
	}
	same(t, "ForEachState after upserts", allStates(t, s), ss)
	if err := s.SaveStates(ctx, nil); err != nil {
		t.Errorf("SaveStates(nothing): %v", err)
	}

	n := 0
	err = s.ForEachState(ctx, func(*skyfence.TerminalState) error {
		if n++; n == 2 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || n != 2 {
		t.Errorf("ForEachState stopping at the second: got %v after %d calls, want %v after 2", err, n, errStop)
	}
}

func testStatesErrors(t *testing.T, s skyfence.Store) {
	ctx := t.Context()
	_, err := s.FindState(ctx, "nope")
	wantCode(t, "FindState(missing)", err, skyfence.ENOTFOUND)
	good := states(1, 1, t0)[0]
	far := states(1, 2, t0)[0]
	far.TerminalID, far.DecidedAt = "far", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		batch []*skyfence.TerminalState
	}{
		{"nil state", []*skyfence.TerminalState{good, nil}},
		{"no terminal id", []*skyfence.TerminalState{good, {Reason: "x"}}},
		{"time out of range", []*skyfence.TerminalState{good, far}},
	} {
		wantCode(t, "SaveStates("+tc.name+")", s.SaveStates(ctx, tc.batch), skyfence.EINVALID)
	}
	same(t, "states after refused batches", allStates(t, s), []*skyfence.TerminalState(nil))
}

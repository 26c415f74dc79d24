package authorizer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/atlas"
	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/world"
)

var (
	snapOnce sync.Once
	theSnap  *policy.Snapshot
)

// examplePolicy is the example policy, compiled once for every test.
func examplePolicy(t *testing.T) *policy.Snapshot {
	t.Helper()
	snapOnce.Do(func() {
		d, err := world.Load(world.Res10m)
		if err != nil {
			panic(err)
		}
		a, err := atlas.New(d, geoindex.Options{})
		if err != nil {
			panic(err)
		}
		src, err := policy.Load("../examples/policy/policy.yaml")
		if err != nil {
			panic(err)
		}
		if theSnap, err = policy.Compile(src, a); err != nil {
			panic(err)
		}
	})
	return theSnap
}

// memStore keeps terminals and states in memory: the three methods the
// authorizer asks of a store, and a failure to write on demand.
type memStore struct {
	mu        sync.Mutex
	terminals []*skyfence.Terminal
	states    map[string]skyfence.TerminalState
	saveErr   error
	saves     int
}

func (m *memStore) ForEachTerminal(_ context.Context, fn func(*skyfence.Terminal) error) error {
	for _, t := range m.terminals {
		if err := fn(t); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) ForEachState(_ context.Context, fn func(*skyfence.TerminalState) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, st := range m.states {
		if err := fn(&st); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) SaveStates(_ context.Context, states []*skyfence.TerminalState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.saveErr != nil {
		return m.saveErr
	}
	m.saves++
	if m.states == nil {
		m.states = map[string]skyfence.TerminalState{}
	}
	for _, st := range states {
		c := *st
		c.Track = append([]byte(nil), st.Track...)
		m.states[st.TerminalID] = c
	}
	return nil
}

var _ authorizer.Store = (*memStore)(nil)

var start = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

func berlinTerminal() *skyfence.Terminal {
	return &skyfence.Terminal{ID: "t1", AccountID: "a1", Plan: "roam", Country: "DE", Status: skyfence.Active}
}

func newCore(t *testing.T, store *memStore, now func() time.Time) *authorizer.Core {
	t.Helper()
	c, err := authorizer.New(t.Context(), authorizer.Config{Store: store, Policy: examplePolicy(t), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func berlin(at time.Time) skyfence.Fix {
	return skyfence.Fix{TerminalID: "t1", Time: at, Lat: 52.52, Lon: 13.40, SpeedKmh: skyfence.NoSpeed}
}

// Each fix of a batch is checked on its own: a malformed one is refused
// with the field at fault and changes nothing, the others are decided.
func TestIngestChecksEachFix(t *testing.T) {
	now := start.Add(time.Hour)
	c := newCore(t, &memStore{terminals: []*skyfence.Terminal{berlinTerminal()}}, func() time.Time { return now })
	long := berlin(start.Add(2 * time.Minute))
	long.ServingCell = strings.Repeat("b", authorizer.MaxServingCellLen+1)
	cases := []struct {
		name       string
		fix        skyfence.Fix
		code       string // of the refusal, "" if decided
		field      string
		allow      bool
		reason     policy.Reason
		isDecision bool
	}{
		{name: "applied", fix: berlin(start), allow: true, isDecision: true},
		{name: "no terminal id", fix: skyfence.Fix{Time: start.Add(time.Second), Lat: 52.52, Lon: 13.40}, code: skyfence.EINVALID, field: "terminal_id"},
		{name: "ahead of the clock", fix: berlin(now.Add(authorizer.MaxClockSkew + time.Second)), code: skyfence.EINVALID, field: "time"},
		{name: "cell too long", fix: long, code: skyfence.EINVALID, field: "cell"},
		{name: "before 1970", fix: berlin(time.Unix(-1, 0)), code: skyfence.EINVALID, field: "time"},
		{name: "not after the last", fix: berlin(start), code: skyfence.ECONFLICT, field: "time"},
		{name: "unknown terminal", fix: skyfence.Fix{TerminalID: "nobody", Time: start, Lat: 52.52, Lon: 13.40}, reason: policy.UnknownTerminal, isDecision: true},
		{name: "next", fix: berlin(start.Add(time.Minute)), allow: true, isDecision: true},
	}
	fixes := make([]skyfence.Fix, len(cases))
	for i, tc := range cases {
		fixes[i] = tc.fix
	}
	out := make([]authorizer.Result, len(fixes))
	if err := c.Ingest(fixes, out); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for i, tc := range cases {
		got := out[i]
		if !tc.isDecision {
			refused++
			var e *skyfence.Error
			if !errors.As(got.Err, &e) || e.Code != tc.code || e.Field != tc.field {
				t.Errorf("%s: %v, want %s on %s", tc.name, got.Err, tc.code, tc.field)
			}
			continue
		}
		if got.Err != nil || got.Decision.Allow != tc.allow || (!tc.allow && got.Decision.Reason != tc.reason) {
			t.Errorf("%s: %+v %v, want allow %v (reason %s)", tc.name, got.Decision, got.Err, tc.allow, tc.reason)
		}
	}
	if n := c.Stats.Rejected.Load(); n != uint64(refused) {
		t.Errorf("rejected: %d, want %d", n, refused)
	}
	if n := c.Stats.Fixes.Load(); n != uint64(len(fixes)) {
		t.Errorf("fixes: %d, want %d", n, len(fixes))
	}
	st, err := c.State("t1")
	if err != nil || !st.Fix.Time.Equal(start.Add(time.Minute)) || !st.Allow {
		t.Errorf("state: %+v %v, want the last fix applied", st, err)
	}
	if _, err := c.State("nobody"); skyfence.ErrorCode(err) != skyfence.ENOTFOUND {
		t.Errorf("state of an unknown terminal: %v", err)
	}
}

// A batch larger than MaxBatch is refused whole, before any fix is
// counted or decided.
func TestIngestRefusesALargeBatch(t *testing.T) {
	c := newCore(t, &memStore{terminals: []*skyfence.Terminal{berlinTerminal()}}, func() time.Time { return start })
	fixes := make([]skyfence.Fix, authorizer.MaxBatch+1)
	for i := range fixes {
		fixes[i] = berlin(start.Add(-time.Duration(len(fixes)-i) * time.Second))
	}
	if err := c.Ingest(fixes, make([]authorizer.Result, len(fixes))); skyfence.ErrorCode(err) != skyfence.ETOOLARGE {
		t.Fatalf("a batch of %d: %v, want too_large", len(fixes), err)
	}
	if n := c.Stats.Fixes.Load(); n != 0 {
		t.Errorf("fixes counted: %d, want 0", n)
	}
	if _, err := c.State("t1"); skyfence.ErrorCode(err) != skyfence.ENOTFOUND {
		t.Errorf("state after a refused batch: %v, want none", err)
	}
}

// A new record and a new policy take effect on the very next decision;
// the policy replaced is kept as Previous.
func TestRecordAndPolicyTakeEffectAtOnce(t *testing.T) {
	c := newCore(t, &memStore{terminals: []*skyfence.Terminal{berlinTerminal()}}, func() time.Time { return start })
	out := make([]authorizer.Result, 1)
	if err := c.Ingest([]skyfence.Fix{berlin(start)}, out); err != nil || !out[0].Decision.Allow {
		t.Fatalf("first fix: %+v %v", out[0], err)
	}
	cut := berlinTerminal()
	cut.Status = skyfence.Suspended
	c.SetRecord(cut)
	if err := c.Ingest([]skyfence.Fix{berlin(start.Add(time.Second))}, out); err != nil || out[0].Decision.Reason != policy.TerminalSuspended {
		t.Fatalf("after suspension: %+v %v", out[0], err)
	}
	first := c.Snapshot()
	if c.Previous() != nil {
		t.Errorf("a previous policy before any change: %v", c.Previous().Version)
	}
	c.SetSnapshot(examplePolicy(t))
	if c.Previous() != nil {
		t.Error("putting the policy in force again made it its own previous")
	}
	next := *first
	c.SetSnapshot(&next)
	if c.Snapshot() != &next || c.Previous() != first {
		t.Error("after a new policy: not in force, or the old one not kept as previous")
	}
}

// Flush writes the last states; a new authorizer on the same store reads
// them back, and still refuses a fix older than the last. A failed write
// keeps the states for the next flush.
func TestStatesSurviveRestart(t *testing.T) {
	store := &memStore{terminals: []*skyfence.Terminal{berlinTerminal()}}
	c := newCore(t, store, func() time.Time { return start.Add(time.Hour) })
	out := make([]authorizer.Result, 2)
	fixes := []skyfence.Fix{berlin(start), berlin(start.Add(time.Minute))}
	fixes[1].Lat = 52.53
	if err := c.Ingest(fixes, out); err != nil || out[1].Err != nil {
		t.Fatalf("ingest: %+v %v", out, err)
	}
	store.saveErr = errors.New("disk full")
	if err := c.Flush(t.Context()); err == nil {
		t.Fatal("a failed write: no error")
	}
	store.saveErr = nil
	if err := c.Flush(t.Context()); err != nil || store.saves != 1 {
		t.Fatalf("the flush after: %v, %d writes", err, store.saves)
	}
	if err := c.Flush(t.Context()); err != nil || store.saves != 1 {
		t.Errorf("a flush with nothing changed: %v, %d writes, want none more", err, store.saves)
	}
	again := newCore(t, store, func() time.Time { return start.Add(time.Hour) })
	if again.Terminals() != 1 {
		t.Errorf("terminals after restart: %d, want 1", again.Terminals())
	}
	st, err := again.State("t1")
	if err != nil || !st.Fix.Time.Equal(fixes[1].Time) || st.Fix.Lat != fixes[1].Lat || !st.Allow {
		t.Fatalf("state after restart: %+v %v", st, err)
	}
	if err := again.Ingest(fixes[:1], out); err != nil || skyfence.ErrorCode(out[0].Err) != skyfence.ECONFLICT {
		t.Errorf("an old fix after restart: %+v %v", out[0], err)
	}
}

// Deciding allocates nothing per fix without detection: a batch of 64
// fixes of 64 terminals allocates no more than a batch of one (the
// locations, slots and the record made for each decision are reused).
func TestIngestAllocatesNothingPerFix(t *testing.T) {
	at := start
	store := &memStore{}
	for i := range 64 {
		tm := berlinTerminal()
		tm.ID = fmt.Sprintf("t%d", i)
		store.terminals = append(store.terminals, tm)
	}
	c := newCore(t, store, func() time.Time { return at })
	allocs := func(n int) float64 {
		fixes := make([]skyfence.Fix, n)
		out := make([]authorizer.Result, n)
		return testing.AllocsPerRun(100, func() {
			at = at.Add(time.Second)
			for i := range fixes {
				fixes[i] = berlin(at)
				fixes[i].TerminalID = store.terminals[i].ID
			}
			if err := c.Ingest(fixes, out); err != nil || out[n-1].Err != nil {
				t.Fatalf("ingest: %+v %v", out[n-1], err)
			}
		})
	}
	if one, many := allocs(1), allocs(64); many > one {
		t.Errorf("a batch of 64 fixes allocates %.1f times, one of a single fix %.1f: want no more", many, one)
	}
}

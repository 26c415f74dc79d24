// Package authorizer is skyfence's hot path: it decides gateways' fixes
// with the active policy snapshot, one terminal at a time in the order of
// its fixes, and keeps every terminal's registry record, decision track and
// last state in compact memory (slots found through an open-addressing
// index, strings interned), writing the last states behind to the store.
//
// It checks no permission (control does, once, before a caller reaches
// it) and imports the domain, policy and detect, never HTTP, NATS or SQL:
// it reads and writes the store through the small Store it declares.
package authorizer

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/policy"
)

// Store is what the authorizer reads and writes of the store: the
// terminals and their last states, loaded once by New, and the last states
// Flush writes. skyfence.Store satisfies it.
type Store interface {
	ForEachTerminal(ctx context.Context, fn func(*skyfence.Terminal) error) error
	ForEachState(ctx context.Context, fn func(*skyfence.TerminalState) error) error
	SaveStates(ctx context.Context, states []*skyfence.TerminalState) error
}

var _ Store = skyfence.Store(nil)

// Config is what a Core is made of. Store and Policy are required.
type Config struct {
	Store Store
	// Policy is the snapshot in force until SetSnapshot replaces it.
	Policy *policy.Snapshot
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// Detect, if set, receives every applied fix with its decision, off the
	// hot path: Ingest offers them after deciding, and never waits (a full
	// queue drops and counts).
	Detect *detect.Queue
}

// Core is the authorizer. Its methods are safe for concurrent use.
type Core struct {
	store  Store
	now    func() time.Time
	snap   atomic.Pointer[policy.Snapshot]
	prev   atomic.Pointer[policy.Snapshot]
	slots  slotStore
	dirty  [dirtyShards]dirtyShard
	detect *detect.Queue
	Stats  Stats
}

const dirtyShards = 64

// dirtyShard collects the slots whose state changed since the last flush.
type dirtyShard struct {
	mu    sync.Mutex
	slots []*slot
}

// Stats counts what the authorizer did, for metrics.
type Stats struct {
	Decisions [policy.NumReasons]atomic.Uint64
	Rejected  atomic.Uint64 // fixes refused (out of order, invalid)
	Fixes     atomic.Uint64
}

// New loads every terminal and its last state from the store.
func New(ctx context.Context, cfg Config) (*Core, error) {
	if cfg.Store == nil || cfg.Policy == nil {
		return nil, errors.New("authorizer: Store and Policy are required")
	}
	c := &Core{store: cfg.Store, now: cfg.Now, detect: cfg.Detect}
	if c.now == nil {
		c.now = time.Now
	}
	c.slots.seed = maphash.MakeSeed()
	c.snap.Store(cfg.Policy)
	err := cfg.Store.ForEachTerminal(ctx, func(t *skyfence.Terminal) error {
		c.SetRecord(t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("authorizer: loading terminals: %w", err)
	}
	err = cfg.Store.ForEachState(ctx, func(st *skyfence.TerminalState) error {
		if sl := c.slots.get(st.TerminalID); sl != nil {
			c.slots.restore(sl, st)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("authorizer: loading terminal states: %w", err)
	}
	return c, nil
}

// Terminals returns how many terminals the authorizer knows.
func (c *Core) Terminals() int { return int(c.slots.n.Load()) }

// Snapshot returns the active policy snapshot.
func (c *Core) Snapshot() *policy.Snapshot { return c.snap.Load() }

// SetSnapshot makes snap the active policy for every decision from now on;
// the one it replaces is kept as Previous. The swap is atomic: no decision
// sees half of a policy.
func (c *Core) SetSnapshot(snap *policy.Snapshot) {
	if old := c.snap.Swap(snap); old != snap {
		c.prev.Store(old)
	}
}

// Previous returns the snapshot that was active before the current one, or
// nil.
func (c *Core) Previous() *policy.Snapshot { return c.prev.Load() }

// SetRecord makes t the registry record of its terminal that every
// decision from now on sees (the next decision takes the slot's lock after
// this releases it). t's verifications are kept: they must not change
// after.
func (c *Core) SetRecord(t *skyfence.Terminal) {
	sl := c.slots.add(t.ID)
	sl.mu.Lock()
	c.slots.setRecord(sl, t)
	sl.mu.Unlock()
}

// Flush writes the last states changed since the previous flush. A
// terminal's state is written at most once per flush however many fixes
// it sent, and only when it matters: the decision changed, or the terminal
// moved more than 1 km or 10 minutes from the state last written. If the
// store fails, the states not written are kept for the next flush.
func (c *Core) Flush(ctx context.Context) error {
	var slots []*slot
	for i := range c.dirty {
		sh := &c.dirty[i]
		sh.mu.Lock()
		slots = append(slots, sh.slots...)
		sh.slots = nil
		sh.mu.Unlock()
	}
	// States are made and written 10,000 at a time, in buffers reused
	// from batch to batch.
	const batchLen = 10000
	n := min(len(slots), batchLen)
	states := make([]skyfence.TerminalState, n)
	batch := make([]*skyfence.TerminalState, n)
	tracks := make([]byte, n*trackSize)
	for len(slots) > 0 {
		n := min(len(slots), batchLen)
		for i, sl := range slots[:n] {
			sl.mu.Lock()
			c.slots.state(sl, &states[i], tracks[i*trackSize:(i+1)*trackSize])
			sl.markSaved()
			sl.dirty = false
			sl.mu.Unlock()
			batch[i] = &states[i]
		}
		if err := c.store.SaveStates(ctx, batch[:n]); err != nil {
			// Put this batch and the rest back so the next flush
			// retries.
			for _, sl := range slots {
				sl.mu.Lock()
				sl.dirty = false
				c.markDirty(sl)
				sl.mu.Unlock()
			}
			return err
		}
		slots = slots[n:]
	}
	return nil
}

// markDirty queues sl for the next flush; sl.mu must be held.
func (c *Core) markDirty(sl *slot) {
	if sl.dirty {
		return
	}
	sl.dirty = true
	sh := &c.dirty[(sl.id*0x9e3779b1>>16)%dirtyShards] // spread by the id's arena position
	sh.mu.Lock()
	sh.slots = append(sh.slots, sl)
	sh.mu.Unlock()
}

// Package control is the skyfence service: the terminal registry with its
// activation and capacity, partner verifications, and ingest, which turns
// gateways' fixes into decisions with the active policy snapshot. It checks
// every caller's permissions, once, and records every change in the audit
// log in the same transaction as the change.
package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/atlas"
	"github.com/skyfence/skyfence/bus"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/policy"
)

// Config is what a Service is made of. Store, Atlas and Policy are required.
type Config struct {
	Store  skyfence.Store
	Atlas  *atlas.Atlas
	Policy *policy.Snapshot
	Logger *slog.Logger
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// FlushInterval is how often terminals' last states are written to the
	// store; 30 s if zero. A terminal's state is written at most once per
	// interval however many fixes it sends, and only when it matters: the
	// decision changed, or the terminal moved more than 1 km or 10 minutes
	// from the state last written. A crash (not a clean shutdown, which
	// writes every state) loses at most that much.
	FlushInterval time.Duration
	// Rules are the governance settings (approvals needed, emergency
	// review window).
	Rules skyfence.ChangeRules
	// Detect, if set, receives every applied fix with its decision, off the
	// hot path: Ingest offers them after deciding, and never waits (a full
	// queue drops and counts). Its alerts come back through RecordAlert,
	// its incidents through RecordIncident (New sets Queue.OnIncident).
	Detect *detect.Queue
	// Bus, if set, receives the service's events (bus.AlertRaised,
	// bus.CaseChanged, bus.Cutoff, bus.TerminalChanged,
	// bus.PolicyActivated) after the change they report is committed.
	Bus bus.Bus
	// Source is the CloudEvents source of those events; "/skyfence" if
	// empty.
	Source string
}

// Service is the control plane. Its methods are safe for concurrent use.
type Service struct {
	store  skyfence.Store
	atlas  *atlas.Atlas
	log    *slog.Logger
	now    func() time.Time
	snap   atomic.Pointer[policy.Snapshot]
	prev   atomic.Pointer[policy.Snapshot]
	slots  slotStore
	dirty  [dirtyShards]dirtyShard
	rules  skyfence.ChangeRules
	detect *detect.Queue
	bus    bus.Bus
	source string
	alerts alertBook
	incs   incidentBook
	keys   keyCache
	maps   mapCache
	Stats  Stats
	stop   chan struct{}
	done   chan struct{}
	closed atomic.Bool
	// adopting orders the adoptions of other authorizers' policies
	// (cluster.go).
	adopting adopting
}

const dirtyShards = 64

// dirtyShard collects the slots whose state changed since the last flush.
type dirtyShard struct {
	mu    sync.Mutex
	slots []*slot
}

// New loads every terminal and its last state from the store and starts the
// writer of last states. Close stops it.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Atlas == nil || cfg.Policy == nil {
		return nil, errors.New("control: Store, Atlas and Policy are required")
	}
	s := &Service{
		store: cfg.Store, atlas: cfg.Atlas, log: cfg.Logger, now: cfg.Now, rules: cfg.Rules, detect: cfg.Detect,
		bus: cfg.Bus, source: cfg.Source,
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	s.slots.seed = maphash.MakeSeed()
	if cfg.Detect != nil {
		cfg.Detect.OnIncident(s.RecordIncident)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.source == "" {
		s.source = "/skyfence"
	}
	s.snap.Store(cfg.Policy)
	if err := s.adoptPolicy(ctx, cfg.Policy); err != nil {
		return nil, err
	}
	n := 0
	err := cfg.Store.ForEachTerminal(ctx, func(t *skyfence.Terminal) error {
		s.setRecord(t)
		n++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("control: loading terminals: %w", err)
	}
	err = cfg.Store.ForEachState(ctx, func(st *skyfence.TerminalState) error {
		if sl := s.slotFor(st.TerminalID, false); sl != nil {
			s.slots.restore(sl, st)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("control: loading terminal states: %w", err)
	}
	s.log.Info("control: loaded", "terminals", n, "policy", s.snap.Load().Version)
	interval := cfg.FlushInterval
	if interval == 0 {
		interval = 30 * time.Second
	}
	go s.flushLoop(interval)
	return s, nil
}

// Close writes the last states still pending and stops the writer. Call it
// after the last Ingest: nothing acknowledged is lost.
func (s *Service) Close(ctx context.Context) error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.stop)
	<-s.done
	return s.Flush(ctx)
}

// Snapshot returns the active policy snapshot.
func (s *Service) Snapshot() *policy.Snapshot { return s.snap.Load() }

// SetSnapshot makes snap the active policy for every decision from now on;
// the one it replaces is kept as Previous (the policy page names it). The swap is atomic: no decision
// sees half of a policy.
func (s *Service) SetSnapshot(snap *policy.Snapshot) {
	old := s.snap.Swap(snap)
	if old != snap {
		s.prev.Store(old)
	}
	s.log.Info("control: policy active", "version", snap.Version)
	s.emit(bus.PolicyActivated, snap.Version, map[string]string{"version": snap.Version})
}

// Previous returns the snapshot that was active before the current one, or
// nil.
func (s *Service) Previous() *policy.Snapshot { return s.prev.Load() }

// Atlas returns the atlas decisions locate with.
func (s *Service) Atlas() *atlas.Atlas { return s.atlas }

// Now returns the service's clock reading.
func (s *Service) Now() time.Time { return s.now() }

func (s *Service) flushLoop(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := s.Flush(ctx); err != nil {
				s.Stats.StoreErrors.Add(1)
				s.log.Error("control: writing terminal states", "err", err)
			}
			cancel()
		}
	}
}

// Flush writes the last states changed since the previous flush, and the
// alerts and incidents recorded since.
func (s *Service) Flush(ctx context.Context) error {
	if err := s.flushAlerts(ctx); err != nil {
		return err
	}
	if err := s.flushIncidents(ctx); err != nil {
		return err
	}
	var slots []*slot
	for i := range s.dirty {
		sh := &s.dirty[i]
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
			s.slots.state(sl, &states[i], tracks[i*trackSize:(i+1)*trackSize])
			sl.markSaved()
			sl.dirty = false
			sl.mu.Unlock()
			batch[i] = &states[i]
		}
		if err := s.store.SaveStates(ctx, batch[:n]); err != nil {
			// Put this batch and the rest back so the next flush
			// retries.
			for _, sl := range slots {
				sl.mu.Lock()
				sl.dirty = false
				s.markDirty(sl)
				sl.mu.Unlock()
			}
			return err
		}
		slots = slots[n:]
	}
	return nil
}

// markDirty queues sl for the next flush; sl.mu must be held.
func (s *Service) markDirty(sl *slot) {
	if sl.dirty {
		return
	}
	sl.dirty = true
	sh := &s.dirty[(sl.id*0x9e3779b1>>16)%dirtyShards] // spread by the id's arena position
	sh.mu.Lock()
	sh.slots = append(sh.slots, sl)
	sh.mu.Unlock()
}

// slotFor returns the slot of terminal id, creating it if create is set.
// A slot is never removed, nor moved: the pointer stays valid.
func (s *Service) slotFor(id string, create bool) *slot {
	if !create {
		return s.slots.get(id)
	}
	return s.slots.add(id)
}

// setRecord makes t the registry record of its terminal that every
// decision from now on sees (the next decision takes the slot's lock after
// this releases it). t's verifications are kept: they must not change
// after.
func (s *Service) setRecord(t *skyfence.Terminal) {
	sl := s.slots.add(t.ID)
	sl.mu.Lock()
	s.slots.setRecord(sl, t)
	sl.mu.Unlock()
}

// Stats counts what the service did, for metrics.
type Stats struct {
	Decisions   [policy.NumReasons]atomic.Uint64
	Rejected    atomic.Uint64 // fixes refused (out of order, invalid)
	Fixes       atomic.Uint64
	StoreErrors atomic.Uint64
}

// newID returns a fresh random id with a prefix, e.g. "ver-3f9a...".
func newID(prefix string) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return prefix + hex.EncodeToString(b[:])
}

// emit publishes an event on the bus, if there is one. Call it after the
// change the event reports is committed.
func (s *Service) emit(typ, subject string, data any) {
	if s.bus == nil {
		return
	}
	e, err := bus.New(s.source, typ, subject, s.now(), data)
	if err != nil {
		s.log.Error("control: encoding event", "type", typ, "err", err)
		return
	}
	s.bus.Publish(e)
}

// Package control is the skyfence service: the terminal registry with its
// activation and capacity, partner verifications, governed policy changes,
// cases, keys, alerts and incidents, and the cluster's replication. It
// checks every caller's permissions, once, and records every change in the
// audit log in the same transaction as the change. Fixes are decided by
// the authorizer it holds (package authorizer), which it tells of every
// registry change and policy activation.
//
// It reaches storage only through skyfence.Store and the bus only through
// bus.Bus: it never imports a database driver, NATS or HTTP (httpapi
// imports it; cmd/skyfence wires it to the stores and natsbus).
package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/atlas"
	"github.com/skyfence/skyfence/authorizer"
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
	// hot path: the authorizer's Ingest offers them after deciding, and
	// never waits (a full queue drops and counts). Its alerts come back
	// through RecordAlert, its incidents through RecordIncident (New sets
	// Queue.OnIncident).
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
	auth   *authorizer.Core
	rules  skyfence.ChangeRules
	detect *detect.Queue
	bus    bus.Bus
	source string
	alerts alertBook
	incs   incidentBook
	keys   keyCache
	maps   mapCache
	stop   chan struct{}
	done   chan struct{}
	closed atomic.Bool
	// storeErrors counts the failed periodic writes of pending records.
	storeErrors atomic.Uint64
	// adopting orders the adoptions of other authorizers' policies
	// (cluster.go).
	adopting adopting
}

// New puts in force the store's active policy (recording cfg.Policy as it
// if there is none), loads every terminal and its last state into the
// authorizer, and starts the writer of last states, alerts and incidents.
// Close stops it.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Atlas == nil || cfg.Policy == nil {
		return nil, errors.New("control: Store, Atlas and Policy are required")
	}
	s := &Service{
		store: cfg.Store, atlas: cfg.Atlas, log: cfg.Logger, now: cfg.Now, rules: cfg.Rules, detect: cfg.Detect,
		bus: cfg.Bus, source: cfg.Source,
		stop: make(chan struct{}), done: make(chan struct{}),
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
	snap, err := s.adoptPolicy(ctx, cfg.Policy)
	if err != nil {
		return nil, err
	}
	if s.auth, err = authorizer.New(ctx, authorizer.Config{Store: cfg.Store, Policy: snap, Now: s.now, Detect: cfg.Detect}); err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	if cfg.Detect != nil {
		cfg.Detect.OnIncident(s.RecordIncident)
	}
	s.log.Info("control: loaded", "terminals", s.auth.Terminals(), "policy", snap.Version)
	interval := cfg.FlushInterval
	if interval == 0 {
		interval = 30 * time.Second
	}
	go s.flushLoop(interval)
	return s, nil
}

// Authorizer returns the authorizer that decides fixes with the policy in
// force and keeps the terminals' records and last states: callers that
// ingest (HTTP, the cluster's fix stream) ask MayIngest first.
func (s *Service) Authorizer() *authorizer.Core { return s.auth }

// Close writes the last states, alerts and incidents still pending and
// stops the writer. Call it after the last Ingest: nothing acknowledged is
// lost.
func (s *Service) Close(ctx context.Context) error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.stop)
	<-s.done
	return s.Flush(ctx)
}

// setSnapshot makes snap the active policy for every decision from now on
// (the one it replaces is kept as the authorizer's Previous, which the
// policy page names) and announces it.
func (s *Service) setSnapshot(snap *policy.Snapshot) {
	s.auth.SetSnapshot(snap)
	s.log.Info("control: policy active", "version", snap.Version)
	s.emit(bus.PolicyActivated, snap.Version, map[string]string{"version": snap.Version})
}

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
				s.storeErrors.Add(1)
				s.log.Error("control: writing terminal states", "err", err)
			}
			cancel()
		}
	}
}

// StoreErrors returns how many periodic writes of the pending last
// states, alerts and incidents failed.
func (s *Service) StoreErrors() uint64 { return s.storeErrors.Load() }

// Flush writes the alerts and incidents recorded since the previous flush,
// and the authorizer's last states changed since.
func (s *Service) Flush(ctx context.Context) error {
	if err := s.flushAlerts(ctx); err != nil {
		return err
	}
	if err := s.flushIncidents(ctx); err != nil {
		return err
	}
	return s.auth.Flush(ctx)
}

// State returns the last fix and decision of a terminal.
func (s *Service) State(ctx context.Context, id string) (*skyfence.TerminalState, error) {
	if _, err := require(ctx, ReadTerminals); err != nil {
		return nil, err
	}
	return s.auth.State(id)
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

package control

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/bus"
)

// In cluster mode several authorizers share one store, each with its own
// copy of the registry records and of the policy snapshot. When one of
// them changes a terminal or activates a policy it publishes the event on
// the cluster's bus; the others apply it with the methods below. Applying
// is idempotent: the store is the truth, the event only says what to
// reload, so an event applied twice, late, or by the process that
// published it changes nothing.

// Source returns the CloudEvents source of the events this service
// publishes (Config.Source): in cluster mode, one per authorizer, so that
// an authorizer can tell its own events from others'.
func (s *Service) Source() string { return s.source }

// ApplyEvent applies another authorizer's event: a TerminalChanged or
// Cutoff reloads the terminal's record, a PolicyActivated the policy in
// force, a KeyRevoked stops trusting the key. Other events, and this
// service's own, are ignored. It publishes nothing.
func (s *Service) ApplyEvent(ctx context.Context, e bus.Event) error {
	if e.Source == s.source {
		return nil
	}
	switch e.Type {
	case bus.TerminalChanged:
		var t skyfence.Terminal
		if err := json.Unmarshal(e.Data, &t); err != nil || t.ID == "" {
			return fmt.Errorf("control: %s event %s: not a terminal: %v", e.Type, e.ID, err)
		}
		return s.ApplyTerminal(ctx, &t)
	case bus.Cutoff:
		return s.ApplyTerminal(ctx, &skyfence.Terminal{ID: e.Subject})
	case bus.PolicyActivated:
		return s.AdoptPolicy(ctx)
	case bus.KeyRevoked:
		s.forgetKey(e.Subject)
	}
	return nil
}

// ApplyTerminal makes the store's record of terminal t.ID the one every
// decision from now on sees. Reading the store, rather than taking t as
// it is, orders changes made by different authorizers: whichever event
// comes last, the record is the latest committed. If the store cannot be
// read, t itself is applied (when it is a whole record: it has an account)
// so that a suspension still takes effect, and the error is returned.
func (s *Service) ApplyTerminal(ctx context.Context, t *skyfence.Terminal) error {
	rec, err := s.store.FindTerminalByID(ctx, t.ID)
	switch {
	case err == nil:
		s.auth.SetRecord(rec)
		return nil
	case skyfence.ErrorCode(err) == skyfence.ENOTFOUND:
		return nil // not committed where this store reads, or gone
	case t.AccountID != "":
		s.auth.SetRecord(t)
	}
	return fmt.Errorf("control: reloading terminal %s: %w", t.ID, err)
}

// adopting serializes adopting a policy from the store (AdoptPolicy)
// and from the cluster's key-value bucket (AdoptPolicyFiles), so that a
// store read made before a newer policy came through the bucket does not
// put the older one back.
type adopting struct {
	mu  sync.Mutex
	gen uint64 // policies adopted through AdoptPolicyFiles; guarded by mu
}

// AdoptPolicy makes the store's active policy change the policy every
// decision from now on uses, compiling it unless it is in force already.
// Unlike an activation it publishes no event: the authorizer that activated
// the change did. If AdoptPolicyFiles adopted a policy while the store was
// read, the read may be older than it and is not used (the next call
// reads again).
func (s *Service) AdoptPolicy(ctx context.Context) error {
	s.adopting.mu.Lock()
	gen := s.adopting.gen
	s.adopting.mu.Unlock()
	active, _, err := s.store.FindChanges(ctx, skyfence.ChangeFilter{State: skyfence.ChangeActive})
	if err != nil {
		return fmt.Errorf("control: reading the active policy change: %w", err)
	}
	if len(active) == 0 {
		return nil
	}
	c := active[0]
	s.adopting.mu.Lock()
	defer s.adopting.mu.Unlock()
	if gen != s.adopting.gen || c.Version == s.auth.Snapshot().Version {
		return nil
	}
	snap, err := s.compileFiles(c.Files)
	if err != nil {
		return fmt.Errorf("control: the active policy change %s: %w", c.ID, err)
	}
	s.auth.SetSnapshot(snap)
	s.log.Info("control: policy adopted", "version", snap.Version, "change", c.ID)
	return nil
}

// AdoptPolicyFiles makes the policy compiled from files, which must be
// version, the policy every decision from now on uses, unless it is in
// force already: in cluster mode the authorizers take the active change
// from a NATS key-value bucket this way, so that a new policy reaches an
// authorizer that cannot read the store. Only the store's policy in force
// is adopted: if the store can be read and its change in force is not of
// version, the files are refused (ECONFLICT), so that an entry written to
// the bucket by anyone but an authorizer that activated a reviewed change
// puts nothing in force; if the store cannot be read, the bucket is
// trusted (as the cluster's NATS credentials are) and the adoption logged.
// Like AdoptPolicy it publishes no event.
func (s *Service) AdoptPolicyFiles(ctx context.Context, version string, files []skyfence.PolicyFile) error {
	active, _, err := s.store.FindChanges(ctx, skyfence.ChangeFilter{State: skyfence.ChangeActive})
	switch {
	case err != nil:
		s.log.Warn("control: adopting the bucket's policy without the store to check it", "version", version, "err", err)
	case len(active) == 0 || active[0].Version != version:
		inForce := "none"
		if len(active) > 0 {
			inForce = active[0].ID + " (version " + active[0].Version + ")"
		}
		return skyfence.Errorf(skyfence.ECONFLICT, "the policy %s is not the store's policy in force (change %s): not adopted", version, inForce)
	}
	s.adopting.mu.Lock()
	defer s.adopting.mu.Unlock()
	if version == s.auth.Snapshot().Version {
		return nil
	}
	snap, err := s.compileFiles(files)
	if err != nil {
		return fmt.Errorf("control: the policy %s: %w", version, err)
	}
	if snap.Version != version {
		return fmt.Errorf("control: the policy's files compile to version %s, not %s", snap.Version, version)
	}
	s.auth.SetSnapshot(snap)
	s.adopting.gen++
	s.log.Info("control: policy adopted", "version", snap.Version)
	return nil
}

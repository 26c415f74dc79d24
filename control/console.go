package control

import (
	"context"

	"github.com/skyfence/skyfence"
	auditchain "github.com/skyfence/skyfence/audit"
	"github.com/skyfence/skyfence/bus"
	"github.com/skyfence/skyfence/policy"
)

// MapState is a terminal as the console's map draws it: where it last was,
// what was last decided there, and its registry status.
type MapState struct {
	ID      string
	Lat     float64
	Lon     float64
	Reason  policy.Reason // Ok allows; every other reason denies
	Country string        // where it was decided: a country, "international" or ""
	Status  skyfence.TerminalStatus
}

// MapStates returns every terminal that has sent a fix, at its last
// position, in no particular order. It needs the permission to read
// terminals.
func (s *Service) MapStates(ctx context.Context) ([]MapState, error) {
	if _, err := require(ctx, ReadTerminals); err != nil {
		return nil, err
	}
	var out []MapState
	s.auth.ForEachState(func(t *skyfence.Terminal, last *skyfence.Fix, d *policy.Decision) bool {
		if last != nil {
			out = append(out, MapState{ID: t.ID, Lat: last.Lat, Lon: last.Lon, Reason: d.Reason, Country: d.Country, Status: t.Status})
		}
		return true
	})
	return out, nil
}

// StateWatch tells what changed on the map since it last looked: a
// terminal that moved, was decided otherwise, or changed status. One
// watcher serves one viewer; it is not safe for concurrent use.
type StateWatch struct {
	s    *Service
	seen map[string]MapState
}

// WatchStates returns a watcher whose first Changes reports what changed
// from now on. It needs the permission to read terminals.
func (s *Service) WatchStates(ctx context.Context) (*StateWatch, error) {
	states, err := s.MapStates(ctx)
	if err != nil {
		return nil, err
	}
	w := &StateWatch{s: s, seen: make(map[string]MapState, len(states))}
	for _, st := range states {
		w.seen[st.ID] = st
	}
	return w, nil
}

// Changes returns the terminals whose map state differs from the last
// call's (or from the watcher's start), as they are now.
func (w *StateWatch) Changes() []MapState {
	var out []MapState
	w.s.auth.ForEachState(func(t *skyfence.Terminal, last *skyfence.Fix, d *policy.Decision) bool {
		if last == nil {
			return true
		}
		st := MapState{ID: t.ID, Lat: last.Lat, Lon: last.Lon, Reason: d.Reason, Country: d.Country, Status: t.Status}
		if w.seen[st.ID] != st {
			w.seen[st.ID] = st
			out = append(out, st)
		}
		return true
	})
	return out
}

// eventPermissions says which permission lets a principal see events of a
// type on the console's live feed; types not listed are not shown.
var eventPermissions = map[string]Permission{
	bus.AlertRaised:     ReadAlerts,
	bus.CaseChanged:     ReadCases,
	bus.Cutoff:          ReadTerminals,
	bus.TerminalChanged: ReadTerminals,
	bus.PolicyActivated: ReadPolicy,
	bus.KeyRevoked:      ManageKeys,
}

// SubscribeEvents calls fn, on a goroutine of the bus, with every event
// published from now on that the caller may see. It needs the permission to
// read terminals. Without a bus there are no events: fn is never called.
// The returned function unsubscribes.
func (s *Service) SubscribeEvents(ctx context.Context, name string, buffer int, fn func(bus.Event)) (func(), error) {
	p, err := require(ctx, ReadTerminals)
	if err != nil {
		return nil, err
	}
	if s.bus == nil {
		return func() {}, nil
	}
	return s.bus.Subscribe(name, buffer, func(e bus.Event) {
		if perm, ok := eventPermissions[e.Type]; ok && p.Can(perm) {
			fn(e)
		}
	}), nil
}

// AuditFilter selects audit entries, newest first. Empty fields match
// everything.
type AuditFilter struct {
	Action  string // a prefix of the action: "terminal." matches every terminal action
	Actor   string
	Subject string
	Before  int64 // only entries with Seq < Before (0: from the head)
	Limit   int   // at most this many (default 100, at most 1000)
}

// AuditLog returns the audit entries that match f, newest first. It needs
// the permission to read the audit log.
func (s *Service) AuditLog(ctx context.Context, f AuditFilter) ([]*skyfence.AuditEntry, error) {
	if _, err := require(ctx, ReadAudit); err != nil {
		return nil, err
	}
	switch {
	case f.Limit <= 0:
		f.Limit = 100
	case f.Limit > 1000:
		f.Limit = 1000
	}
	out := []*skyfence.AuditEntry{}
	err := s.store.QueryAudit(ctx, skyfence.AuditQuery{ActionPrefix: f.Action, Actor: f.Actor, Subject: f.Subject,
		Before: f.Before, Newest: true, Limit: f.Limit}, func(e *skyfence.AuditEntry) error {
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// VerifyAudit walks the whole audit chain and reports whether it is sound
// (audit.Verify in package audit, trusting the log's first key). It needs the permission to
// read the audit log.
func (s *Service) VerifyAudit(ctx context.Context) (*auditchain.Report, error) {
	if _, err := require(ctx, ReadAudit); err != nil {
		return nil, err
	}
	return auditchain.Verify(ctx, s.store, auditchain.VerifyOptions{})
}

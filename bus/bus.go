// Package bus carries skyfence's events (alerts, case changes, cut-offs,
// registry and policy changes) from the service to whoever listens: the
// webhook sender, the console's live feed and, in cluster mode, the other
// authorizers. Events are CloudEvents 1.0 in structured JSON mode, so the
// same bytes go on the in-process bus, on NATS and in a webhook's body.
//
// Publishing never blocks the publisher: each subscriber has a bounded
// queue, and an event that does not fit is dropped and counted, never
// silently.
//
// bus owns the Bus interface, the in-process bus and the event envelope. It
// imports only the standard library, not even the domain: natsbus carries
// the same events over NATS, webhook and the console subscribe.
package bus

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"
)

// The event types skyfence publishes. Subject is the id of what the event
// is about (a terminal, a case, a policy change).
const (
	// AlertRaised: detection raised an alert; data is the alert.
	AlertRaised = "io.skyfence.alert.raised"
	// CaseChanged: an investigation was opened, assigned, noted, actioned,
	// appealed or closed; data is the case.
	CaseChanged = "io.skyfence.case.changed"
	// Cutoff: a terminal lost service by an action (suspension or
	// deactivation), or got it back (reinstatement); data says which.
	Cutoff = "io.skyfence.terminal.cutoff"
	// TerminalChanged: a terminal's registry record changed; data is the
	// record. Authorizers apply it to their cached copy.
	TerminalChanged = "io.skyfence.terminal.changed"
	// PolicyActivated: a policy version became active; data names it.
	PolicyActivated = "io.skyfence.policy.activated"
	// KeyRevoked: an API key was revoked; data is the key (its name,
	// holder and role; never its hash). Authorizers stop trusting it.
	KeyRevoked = "io.skyfence.key.revoked"
)

// SpecVersion is the CloudEvents version of Event.
const SpecVersion = "1.0"

// Event is one CloudEvents 1.0 event in structured JSON mode.
type Event struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype,omitempty"`
	Data            json.RawMessage `json:"data,omitempty"`
}

// New returns an event of type typ about subject, from source, with data
// encoded as JSON and a fresh random id.
func New(source, typ, subject string, at time.Time, data any) (Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Event{}, err
	}
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Event{}, err
	}
	return Event{
		SpecVersion: SpecVersion, ID: hex.EncodeToString(b[:]), Source: source, Type: typ,
		Subject: subject, Time: at.UTC(), DataContentType: "application/json", Data: raw,
	}, nil
}

// Bus is where events are published and subscribed to.
type Bus interface {
	// Publish hands e to every subscriber without waiting for any.
	Publish(e Event)
	// Subscribe calls fn with every event published from now on, in
	// order, on a goroutine of its own; buffer bounds the events waiting
	// for fn (overflow is dropped and counted). The returned function
	// unsubscribes and waits for fn's last call to return.
	Subscribe(name string, buffer int, fn func(Event)) (unsubscribe func())
}

// Local is the in-process bus: the embedded default.
type Local struct {
	mu   sync.RWMutex
	subs []*sub
	// Published counts events published.
	Published atomic.Uint64
}

type sub struct {
	name    string
	ch      chan Event
	done    chan struct{}
	dropped atomic.Uint64
}

// NewLocal returns an empty in-process bus.
func NewLocal() *Local { return &Local{} }

// Publish implements Bus.
func (l *Local) Publish(e Event) {
	l.Published.Add(1)
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, s := range l.subs {
		select {
		case s.ch <- e:
		default:
			s.dropped.Add(1)
		}
	}
}

// Subscribe implements Bus.
func (l *Local) Subscribe(name string, buffer int, fn func(Event)) func() {
	s := &sub{name: name, ch: make(chan Event, max(buffer, 1)), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for e := range s.ch {
			fn(e)
		}
	}()
	l.mu.Lock()
	l.subs = append(l.subs, s)
	l.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			for i, x := range l.subs {
				if x == s {
					l.subs = append(l.subs[:i:i], l.subs[i+1:]...)
					break
				}
			}
			l.mu.Unlock()
			close(s.ch)
			<-s.done
		})
	}
}

// Dropped returns, per subscriber name, how many events did not fit its
// queue.
func (l *Local) Dropped() map[string]uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make(map[string]uint64, len(l.subs))
	for _, s := range l.subs {
		out[s.name] += s.dropped.Load()
	}
	return out
}

package control_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/bus"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/policy"
)

// node is one authorizer of a cluster (a service), with the events it
// published.
type node struct {
	svc    *control.Service
	mu     sync.Mutex
	events []bus.Event
}

func newAuthorizer(t *testing.T, store skyfence.Store, clk *clock, source string) *node {
	t.Helper()
	a := &node{}
	b := bus.NewLocal()
	t.Cleanup(b.Subscribe("test", 1000, func(e bus.Event) {
		a.mu.Lock()
		a.events = append(a.events, e)
		a.mu.Unlock()
	}))
	svc, err := control.New(context.Background(), control.Config{
		Store: store, Atlas: testAtlas(t), Policy: compile(t, "../examples/policy/policy.yaml"), Now: clk.now,
		Rules: skyfence.ChangeRules{Approvals: 2, EmergencyReview: 6 * time.Hour}, Bus: b, Source: source,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(context.Background()) })
	a.svc = svc
	return a
}

// published waits for and returns the events a published so far, at
// least n of them.
func (a *node) published(t *testing.T, n int) []bus.Event {
	t.Helper()
	for range 1000 {
		a.mu.Lock()
		got := append([]bus.Event(nil), a.events...)
		a.mu.Unlock()
		if len(got) >= n {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("fewer than %d events published", n)
	return nil
}

// decide sends one fix of t1 in Berlin to svc and returns the decision.
func decide(t *testing.T, svc *control.Service, at time.Time) policy.Decision {
	t.Helper()
	out := make([]authorizer.Result, 1)
	fix := []skyfence.Fix{{TerminalID: "t1", Time: at, Lat: 52.52, Lon: 13.40, SpeedKmh: skyfence.NoSpeed}}
	if err := ingest(svc, as("gw", skyfence.RoleGateway), fix, out); err != nil || out[0].Err != nil {
		t.Fatalf("ingest: %v %v", err, out[0].Err)
	}
	return out[0].Decision
}

// Two authorizers on one store: what one changes, the other applies from
// its events, whatever their order and however often they arrive; an
// authorizer's own events change nothing; applying publishes nothing.
func TestClusterAppliesOthersEvents(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		clk := &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
		a := newAuthorizer(t, store, clk, "/skyfence/a")
		b := newAuthorizer(t, store, clk, "/skyfence/b")
		ctx := context.Background()
		apply := func(svc *control.Service, es ...bus.Event) {
			t.Helper()
			for _, e := range es {
				if err := svc.ApplyEvent(ctx, e); err != nil {
					t.Fatalf("apply %s: %v", e.Type, err)
				}
			}
		}

		op := as("olga", skyfence.RoleOperator)
		if err := a.svc.CreateAccount(op, &skyfence.Account{ID: "a1", Name: "A"}); err != nil {
			t.Fatal(err)
		}
		if err := a.svc.CreateTerminal(op, &skyfence.Terminal{ID: "t1", AccountID: "a1", Plan: "roam", Country: "DE"}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.Activate(op, "t1", 52.52, 13.40); err != nil {
			t.Fatal(err)
		}
		active := a.published(t, 2)
		apply(b.svc, active...)
		if d := decide(t, b.svc, clk.now()); !d.Allow {
			t.Fatalf("b after activation: %+v", d)
		}

		if _, err := a.svc.SetStatus(op, "t1", skyfence.Suspended, "case 42"); err != nil {
			t.Fatal(err)
		}
		all := a.published(t, 3)
		suspended := all[len(all)-1]
		apply(b.svc, suspended, suspended)
		apply(b.svc, active...) // late, out of order: the store's record wins
		if d := decide(t, b.svc, clk.now().Add(time.Minute)); d.Reason != policy.TerminalSuspended {
			t.Fatalf("b after the suspension: %+v", d)
		}
		apply(a.svc, all...) // its own: ignored
		if d := decide(t, a.svc, clk.now().Add(2*time.Minute)); d.Reason != policy.TerminalSuspended {
			t.Fatalf("a after its own events: %+v", d)
		}

		c := draft(t, a.svc, as("alice", skyfence.RolePolicyAuthor), control.ChangeInput{})
		if _, err := a.svc.EmergencyActivate(as("dave", skyfence.RoleEmergency), c.ID, "licence in force tonight"); err != nil {
			t.Fatal(err)
		}
		all = a.published(t, 4)
		activated := all[len(all)-1]
		if activated.Type != bus.PolicyActivated {
			t.Fatalf("last event %s, want %s", activated.Type, bus.PolicyActivated)
		}
		if taipeiAllowed(b.svc, clk.now()) {
			t.Fatal("b allows Taipei before the event")
		}
		apply(b.svc, activated, activated)
		if got, want := b.svc.Authorizer().Snapshot().Version, a.svc.Authorizer().Snapshot().Version; got != want || !taipeiAllowed(b.svc, clk.now()) {
			t.Fatalf("b's policy %s, want %s", got, want)
		}
		if n := len(b.published(t, 0)); n != 0 {
			t.Errorf("b published %d events while applying a's", n)
		}
	})
}

// unreachable is a store that can be cut off: reading policy changes
// fails while down is set.
type unreachable struct {
	skyfence.Store
	down atomic.Bool
}

func (u *unreachable) FindChanges(ctx context.Context, f skyfence.ChangeFilter) ([]*skyfence.PolicyChange, skyfence.Cursor, error) {
	if u.down.Load() {
		return nil, skyfence.Cursor{}, errors.New("connection refused")
	}
	return u.Store.FindChanges(ctx, f)
}

// An authorizer that cannot read the store adopts a policy from its
// version and files (as the cluster's key-value bucket carries them): once,
// only if the files are that version, publishing nothing.
func TestAdoptPolicyFilesWithoutTheStore(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		clk := &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
		a := newAuthorizer(t, store, clk, "/skyfence/a")
		cut := &unreachable{Store: store}
		b := newAuthorizer(t, cut, clk, "/skyfence/b")
		ctx := context.Background()

		c := draft(t, a.svc, as("alice", skyfence.RolePolicyAuthor), control.ChangeInput{})
		if _, err := a.svc.EmergencyActivate(as("dave", skyfence.RoleEmergency), c.ID, "licence in force tonight"); err != nil {
			t.Fatal(err)
		}
		activated := a.published(t, 1)[0]
		cut.down.Store(true)
		if err := b.svc.ApplyEvent(ctx, activated); err == nil || taipeiAllowed(b.svc, clk.now()) {
			t.Fatalf("b applied the activation without the store: %v", err)
		}
		before := b.svc.Authorizer().Snapshot().Version
		if err := b.svc.AdoptPolicyFiles(ctx, "not-"+c.Version, c.Files); err == nil || b.svc.Authorizer().Snapshot().Version != before {
			t.Fatalf("b adopted files under another version: %v", err)
		}
		for range 2 {
			if err := b.svc.AdoptPolicyFiles(ctx, c.Version, c.Files); err != nil {
				t.Fatal(err)
			}
		}
		if got := b.svc.Authorizer().Snapshot().Version; got != c.Version || !taipeiAllowed(b.svc, clk.now()) {
			t.Fatalf("b's policy %s, want %s", got, c.Version)
		}
		cut.down.Store(false)
		if err := b.svc.AdoptPolicy(ctx); err != nil || b.svc.Authorizer().Snapshot().Version != c.Version {
			t.Fatalf("b's policy after the store is back: %s, %v", b.svc.Authorizer().Snapshot().Version, err)
		}
		if n := len(b.published(t, 0)); n != 0 {
			t.Errorf("b published %d events while adopting", n)
		}
	})
}

// An authorizer that can read the store adopts from the bucket only the
// store's policy in force: files written to the bucket by anyone else,
// compiling and of their own version, put nothing in force.
func TestAdoptPolicyFilesOnlyWhatTheStoreHasInForce(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		clk := &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
		a := newAuthorizer(t, store, clk, "/skyfence/a")
		ctx := context.Background()
		before := a.svc.Authorizer().Snapshot().Version
		c := draft(t, a.svc, as("alice", skyfence.RolePolicyAuthor), control.ChangeInput{})
		if err := a.svc.AdoptPolicyFiles(ctx, c.Version, c.Files); skyfence.ErrorCode(err) != skyfence.ECONFLICT {
			t.Errorf("adopting a draft's files: %v, want %s", err, skyfence.ECONFLICT)
		}
		if got := a.svc.Authorizer().Snapshot().Version; got != before || taipeiAllowed(a.svc, clk.now()) {
			t.Fatalf("policy %s in force, want %s", got, before)
		}
		if _, err := a.svc.EmergencyActivate(as("dave", skyfence.RoleEmergency), c.ID, "licence in force tonight"); err != nil {
			t.Fatal(err)
		}
		if err := a.svc.AdoptPolicyFiles(ctx, c.Version, c.Files); err != nil {
			t.Errorf("adopting the policy in force: %v", err)
		}
	})
}

// A key revoked by one authorizer: another, which had verified and cached
// it, refuses it as soon as it applies the KeyRevoked event, not when its
// cache expires (the clock stands still here).
func TestClusterForgetsARevokedKey(t *testing.T) {
	forEachStore(t, func(t *testing.T, store skyfence.Store) {
		clk := &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
		a := newAuthorizer(t, store, clk, "/skyfence/a")
		b := newAuthorizer(t, store, clk, "/skyfence/b")
		ctx := context.Background()
		k, secret, err := a.svc.CreateKey(as("root", skyfence.RoleAdmin), control.KeyInput{Name: "gateway", Role: skyfence.RoleGateway})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Authenticate(ctx, secret); err != nil {
			t.Fatalf("b before the revocation: %v", err)
		}
		if _, err := a.svc.RevokeKey(as("root", skyfence.RoleAdmin), k.ID, "left on a laptop"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.svc.Authenticate(ctx, secret); skyfence.ErrorCode(err) != skyfence.EUNAUTHORIZED {
			t.Errorf("a after revoking: %v, want %s", err, skyfence.EUNAUTHORIZED)
		}
		if _, err := b.svc.Authenticate(ctx, secret); err != nil {
			t.Fatalf("b before the event, from its cache: %v", err)
		}
		var revoked *bus.Event
		for _, e := range a.published(t, 1) {
			if e.Type == bus.KeyRevoked {
				revoked = &e
			}
		}
		if revoked == nil || revoked.Subject != k.ID || strings.Contains(string(revoked.Data), "hash") {
			t.Fatalf("a published %+v, want a %s event about %s without the hash", revoked, bus.KeyRevoked, k.ID)
		}
		if err := b.svc.ApplyEvent(ctx, *revoked); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Authenticate(ctx, secret); skyfence.ErrorCode(err) != skyfence.EUNAUTHORIZED {
			t.Errorf("b after the event: %v, want %s", err, skyfence.EUNAUTHORIZED)
		}
	})
}

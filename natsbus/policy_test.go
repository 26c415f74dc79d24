package natsbus_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/testkit/testnats"
	"github.com/skyfence/skyfence/natsbus"
)

func policyOf(change, version string, at time.Time) *natsbus.Policy {
	return &natsbus.Policy{Change: change, Version: version, ActivatedAt: at,
		Files: []skyfence.PolicyFile{{Name: "policy.yaml", Data: []byte("version: " + version)}}}
}

// policies collects the versions a WatchPolicy saw.
type policies struct {
	mu   sync.Mutex
	seen []string
}

func (p *policies) add(x natsbus.Policy) {
	p.mu.Lock()
	p.seen = append(p.seen, x.Version)
	p.mu.Unlock()
}

func (p *policies) versions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.seen)
}

// The store's policy in force goes into the bucket once, a watcher sees
// what the bucket holds when it starts and every policy put later, and of
// two authorizers syncing at once the one that read the store later wins.
func TestPolicyBucket(t *testing.T) {
	srv := testnats.Start(t)
	ns := testnats.Namespace(t, srv.URL())
	a := open(t, srv.URL(), ns, t.TempDir(), 0)
	b := open(t, srv.URL(), ns, t.TempDir(), 0)
	ctx := context.Background()
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

	var storeMu sync.Mutex
	store := policyOf("chg-1", "v1", t0)
	active := func(context.Context) (*natsbus.Policy, error) {
		storeMu.Lock()
		defer storeMu.Unlock()
		return store, nil
	}
	set := func(p *natsbus.Policy) {
		storeMu.Lock()
		store = p
		storeMu.Unlock()
	}
	syncTo := func(bus *natsbus.Bus, want bool) {
		t.Helper()
		put, err := bus.SyncPolicy(ctx, active)
		if err != nil || put != want {
			t.Fatalf("SyncPolicy: put %v, %v; want put %v", put, err, want)
		}
	}
	syncTo(a, true)
	syncTo(b, false) // held already

	var seen policies
	t.Cleanup(b.WatchPolicy(seen.add))
	waitFor(t, "the watcher sees the policy held", func() bool { return slices.Equal(seen.versions(), []string{"v1"}) })

	set(policyOf("chg-2", "v2", t0.Add(time.Hour)))
	syncTo(a, true)
	waitFor(t, "the watcher sees v2", func() bool { return slices.Equal(seen.versions(), []string{"v1", "v2"}) })

	// A policy of version v1 is in force again (a rollback's new change
	// carries its files): the same version, a later activation.
	set(policyOf("chg-1", "v1", t0.Add(2*time.Hour)))
	syncTo(b, true)
	waitFor(t, "the watcher sees v1 again", func() bool { return slices.Equal(seen.versions(), []string{"v1", "v2", "v1"}) })

	// a reads the store (v3), then b syncs v4, activated after; a's put of
	// what it read loses, and a reads again.
	reads := 0
	stale := func(ctx context.Context) (*natsbus.Policy, error) {
		reads++
		if reads == 1 {
			p := policyOf("chg-3", "v3", t0.Add(3*time.Hour))
			set(policyOf("chg-4", "v4", t0.Add(4*time.Hour)))
			syncTo(b, true)
			return p, nil
		}
		return active(ctx)
	}
	if put, err := a.SyncPolicy(ctx, stale); err != nil || put || reads != 2 {
		t.Fatalf("the stale sync: put %v, %v after %d reads; want no put after 2", put, err, reads)
	}
	waitFor(t, "the watcher sees v4", func() bool { return slices.Equal(seen.versions(), []string{"v1", "v2", "v1", "v4"}) })

	// A watcher started later sees what the bucket holds.
	var late policies
	t.Cleanup(a.WatchPolicy(late.add))
	waitFor(t, "a late watcher sees v4", func() bool { return slices.Equal(late.versions(), []string{"v4"}) })

	// A policy too large for a NATS message is not put, and the one the
	// bucket held, no longer in force, is deleted: an authorizer that
	// starts now finds none to adopt.
	big := policyOf("chg-5", "v5", t0.Add(5*time.Hour))
	big.Files[0].Data = make([]byte, 2<<20)
	set(big)
	if put, err := a.SyncPolicy(ctx, active); err == nil || put {
		t.Fatalf("SyncPolicy of 2 MiB: put %v, %v", put, err)
	}
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	kv, err := js.KeyValue(ctx, natsbus.PolicyBucket(ns))
	if err != nil {
		t.Fatal(err)
	}
	if e, err := kv.Get(ctx, "active"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("the bucket after a failed put: %v, %v", e, err)
	}
	set(policyOf("chg-6", "v6", t0.Add(6*time.Hour)))
	syncTo(b, true)
	waitFor(t, "the watcher sees v6", func() bool { return slices.Equal(seen.versions(), []string{"v1", "v2", "v1", "v4", "v6"}) })
}

// With NATS away a sync fails at once; the watcher resumes when NATS is
// back and sees what was put meanwhile.
func TestPolicyBucketOutage(t *testing.T) {
	srv := testnats.Start(t)
	ns := testnats.Namespace(t, srv.URL())
	a := open(t, srv.URL(), ns, t.TempDir(), 0)
	b := open(t, srv.URL(), ns, t.TempDir(), 0)
	ctx := context.Background()
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	active := func(p *natsbus.Policy) func(context.Context) (*natsbus.Policy, error) {
		return func(context.Context) (*natsbus.Policy, error) { return p, nil }
	}
	if _, err := a.SyncPolicy(ctx, active(policyOf("chg-1", "v1", t0))); err != nil {
		t.Fatal(err)
	}
	var seen policies
	t.Cleanup(b.WatchPolicy(seen.add))
	waitFor(t, "the watcher sees v1", func() bool { return slices.Equal(seen.versions(), []string{"v1"}) })

	srv.Stop()
	waitFor(t, "a notices", func() bool { return !a.Stats().Connected })
	if _, err := a.SyncPolicy(ctx, active(policyOf("chg-2", "v2", t0.Add(time.Hour)))); err == nil {
		t.Fatal("SyncPolicy with NATS away: no error")
	}
	srv.Start()
	waitFor(t, "a reconnects", func() bool { return a.Stats().Connected })
	if put, err := a.SyncPolicy(ctx, active(policyOf("chg-2", "v2", t0.Add(time.Hour)))); err != nil || !put {
		t.Fatalf("SyncPolicy after the outage: %v %v", put, err)
	}
	waitFor(t, "the watcher sees v2", func() bool { return slices.Equal(seen.versions(), []string{"v1", "v2"}) })
}

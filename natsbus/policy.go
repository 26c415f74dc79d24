package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/skyfence/skyfence"
)

// The policy in force travels in a JetStream key-value bucket of the
// namespace, PolicyBucket, under one key: the active policy change's
// version and files. The authorizer that activates a change puts it there
// (and every authorizer puts the store's active change there if the bucket
// holds another, which heals a put lost with NATS or with its process);
// every authorizer watches the key and compiles what it does not run, so a
// new policy reaches an authorizer that cannot read the store.

// policyKey is the bucket's key of the policy in force.
const policyKey = "active"

// PolicyBucket returns the name of the namespace's key-value bucket of the
// policy in force (SKYFENCE_POLICY for "skyfence").
func PolicyBucket(namespace string) string {
	return streamName(namespace, "POLICY")
}

// Policy is a policy change in force, as the bucket holds it.
type Policy struct {
	Change      string                `json:"change"`
	Version     string                `json:"version"`
	ActivatedAt time.Time             `json:"activated_at"`
	Files       []skyfence.PolicyFile `json:"files"`
}

// same reports whether p and q are one activation of one change.
func (p *Policy) same(q *Policy) bool {
	return p.Change == q.Change && p.Version == q.Version && p.ActivatedAt.Equal(q.ActivatedAt)
}

// policyKV returns the namespace's policy bucket, creating it if missing
// (file storage, the last value only).
func (b *Bus) policyKV(ctx context.Context) (jetstream.KeyValue, error) {
	if !b.nc.IsConnected() {
		return nil, errors.New("natsbus: not connected to NATS")
	}
	return b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: PolicyBucket(b.cfg.Namespace), Description: "the skyfence policy in force",
		History: 1, Storage: jetstream.FileStorage,
	})
}

// SyncPolicy puts the policy active returns (the store's change in force)
// into the bucket unless the bucket holds it already, and reports whether
// it put it. The bucket's revision is read before active is called and
// checked by the put, so that of two authorizers syncing at once the one
// that read the store later wins; a put that lost is tried again. If the
// put fails otherwise, the policy the bucket held is deleted (watchers
// ignore the deletion). active may return nil: nothing is in force.
func (b *Bus) SyncPolicy(ctx context.Context, active func(context.Context) (*Policy, error)) (bool, error) {
	kv, err := b.policyKV(ctx)
	if err != nil {
		return false, fmt.Errorf("natsbus: the policy bucket: %w", err)
	}
	for range 3 {
		var rev uint64
		var held Policy
		switch e, err := kv.Get(ctx, policyKey); {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return false, fmt.Errorf("natsbus: reading the policy bucket: %w", err)
		default:
			rev = e.Revision()
			if err := json.Unmarshal(e.Value(), &held); err != nil {
				b.log.Warn("natsbus: an undecodable policy in the bucket is replaced", "err", err)
			}
		}
		p, err := active(ctx)
		if err != nil || p == nil || p.same(&held) {
			return false, err
		}
		data, err := json.Marshal(p)
		if err != nil {
			return false, err
		}
		if rev == 0 {
			_, err = kv.Create(ctx, policyKey, data)
		} else {
			_, err = kv.Update(ctx, policyKey, data, rev)
		}
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue // another authorizer put meanwhile: read both again
		}
		if err != nil {
			// The bucket holds a policy no longer in force (this one is
			// too large, say): delete it rather than let an authorizer
			// that starts now adopt it.
			if rev != 0 {
				_ = kv.Delete(ctx, policyKey, jetstream.LastRevision(rev))
			}
			return false, fmt.Errorf("natsbus: putting the policy %s: %w", p.Version, err)
		}
		return true, nil
	}
	return false, errors.New("natsbus: the policy bucket kept changing while it was synced")
}

// WatchPolicy calls fn, on a goroutine of its own, with the policy the
// bucket holds (at once, if it holds one) and with every policy put
// later, in order, until the returned function is called. While NATS or
// the bucket is away it retries, and it starts again from the bucket's
// value after a watch ends (and after a reconnection); a policy is passed
// to fn once, not again when a new watch starts with it.
func (b *Bus) WatchPolicy(fn func(Policy)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		var last Policy
		once := func(p Policy) {
			if !p.same(&last) {
				last = p
				fn(p)
			}
		}
		for ctx.Err() == nil {
			if err := b.watchPolicy(ctx, once); err != nil {
				b.log.Debug("natsbus: watching the policy bucket", "err", err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(b.cfg.Retry):
			}
		}
	}()
	return func() { cancel(); <-done }
}

// watchPolicy watches the bucket's key until the watch or ctx ends.
func (b *Bus) watchPolicy(ctx context.Context, fn func(Policy)) error {
	wctx, cancel := context.WithTimeout(ctx, b.cfg.AckWait)
	kv, err := b.policyKV(wctx)
	cancel()
	if err != nil {
		return err
	}
	reconnects := b.nc.Stats().Reconnects
	w, err := kv.Watch(ctx, policyKey)
	if err != nil {
		return err
	}
	defer w.Stop()
	// The watch's consumer notices a restarted server only after missed
	// heartbeats (tens of seconds): a reconnection starts a new watch.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if b.nc.Stats().Reconnects != reconnects {
				return errors.New("natsbus: reconnected")
			}
		case e, ok := <-w.Updates():
			if !ok {
				return ctx.Err()
			}
			if e == nil || e.Operation() != jetstream.KeyValuePut {
				continue // nil: the value held at the start was delivered
			}
			var p Policy
			if err := json.Unmarshal(e.Value(), &p); err != nil {
				b.log.Error("natsbus: an undecodable policy in the bucket", "revision", e.Revision(), "err", err)
				continue
			}
			fn(p)
		}
	}
}

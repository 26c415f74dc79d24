package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/skyfence/skyfence"
)

// finalTimeout bounds the checkpoint Run makes once its context is
// cancelled.
const finalTimeout = 10 * time.Second

// Checkpointer appends a signed checkpoint to the audit log at an interval,
// so that the log's head is never long unsigned. A server starts one:
//
//	signer, err := audit.LoadOrCreateSigner(filepath.Join(dataDir, audit.KeyFile))
//	...
//	cp := &audit.Checkpointer{Store: store, Signer: signer, Logger: logger}
//	go func() { errc <- cp.Run(ctx, 5*time.Minute) }()
//
// Run it in one process per log (in a cluster, one process, or each with
// the same key file: a head that is already a checkpoint is not signed
// again, so two do no harm). In a cluster every authorizer runs one with
// Leading set, and only the leader's checkpoints.
type Checkpointer struct {
	Store  skyfence.Store
	Signer *Signer
	Logger *slog.Logger // nil discards
	// Leading, if set, says whether this process checkpoints now: when it
	// returns false, a checkpoint (the last one at shutdown included) is
	// skipped. Nil checkpoints always.
	Leading func() bool
}

// Run registers the signer's key in the log if the log has no key yet (a
// root key entry, which verifiers trust on first use or by pinning), then
// checkpoints the head at once, every interval while entries keep coming,
// and a last time when ctx is cancelled, so that a clean shutdown leaves the
// head signed. It returns nil once ctx is cancelled, or an error with code
// ECONFLICT as soon as the log's key in force is not the signer's (another
// key is registered: Rotate to this one first). Any other failure of one
// checkpoint, such as the store being unavailable for a while, is logged
// and retried at the next tick. Close the store only once Run has
// returned, or the last checkpoint finds it closed.
func (c *Checkpointer) Run(ctx context.Context, interval time.Duration) error {
	logger := c.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := c.register(ctx, logger); err != nil {
		return err
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		err := c.tick(ctx)
		if skyfence.ErrorCode(err) == skyfence.ECONFLICT {
			return err
		}
		if err != nil && ctx.Err() == nil {
			logger.Error("audit checkpoint failed; will retry", "err", err, "retry_in", interval)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalTimeout)
			defer cancel()
			if err := c.tick(fctx); err != nil {
				logger.Error("final audit checkpoint failed", "err", err)
			}
			return nil
		}
	}
}

// register appends the signer's root key entry if the log has no key, and
// fails if it has another.
func (c *Checkpointer) register(ctx context.Context, logger *slog.Logger) error {
	return c.Store.Tx(ctx, func(tx skyfence.Tx) error {
		cur, err := currentKey(ctx, tx)
		if err != nil {
			return err
		}
		switch cur {
		case c.Signer.id:
			return nil
		case "":
			logger.Info("registering the audit signing key, trusted on first use", "key_id", c.Signer.id)
			return appendKey(ctx, tx, nil, c.Signer)
		}
		return notInForce(c.Signer.id, cur)
	})
}

// tick checkpoints the head unless it is a checkpoint already, or this
// process does not lead.
func (c *Checkpointer) tick(ctx context.Context) error {
	if c.Leading != nil && !c.Leading() {
		return nil
	}
	return c.Store.Tx(ctx, func(tx skyfence.Tx) error {
		head, err := findHead(ctx, tx)
		if err != nil || head == nil || head.Action == ActionCheckpoint {
			return err
		}
		return c.Signer.checkpoint(ctx, tx, head)
	})
}

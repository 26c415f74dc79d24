package httpapi

import (
	"container/list"
	"context"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/fixwire"
)

// Batch ids make a gateway's retry of POST /v1/fixes idempotent on the
// process that answered it: the answer to a batch with a batch_id is kept
// for a while, by the caller's key and the id, and a batch that comes again
// with the same id and the same fixes gets that answer again, byte for
// byte, without being decided again. A retry that reaches another process,
// or comes after the answer was forgotten, is decided as any batch: the
// fixes applied the first time are refused as not newer (conflict), and
// nothing is applied twice (docs/API.md).

// Default bounds of the answers kept (docs/API.md, docs/OPERATIONS.md).
const (
	DefaultBatchCacheBytes = 64 << 20
	DefaultBatchCacheAge   = 10 * time.Minute
	// batchCacheMax bounds the batches kept, whatever their size.
	batchCacheMax = 100_000
	// batchOverhead is what a kept batch costs besides its answer and id.
	batchOverhead = 160
)

// batchCache holds the answers to recent fix batches, oldest first, within
// its bounds of bytes, count and age.
type batchCache struct {
	mu       sync.Mutex
	byKey    map[batchKey]*batch
	order    *list.List // of *batch answered, oldest first
	bytes    int
	maxBytes int
	maxAge   time.Duration
	now      func() time.Time
	seed     maphash.Seed

	replayed, conflicts atomic.Uint64
}

// batchKey names a batch: the key that sent it, and its batch_id.
type batchKey struct{ caller, id string }

// batch is one batch, in flight (done not closed) or answered.
type batch struct {
	key    batchKey
	sum    uint64 // of its fixes, to tell a retry from another batch under the same id
	form   string // the answer's media type: JSON or binary (fixwire)
	done   chan struct{}
	answer []byte // nil until answered, and if it failed
	at     time.Time
	elem   *list.Element
}

func newBatchCache(maxBytes int, maxAge time.Duration) *batchCache {
	return &batchCache{byKey: map[batchKey]*batch{}, order: list.New(), maxBytes: maxBytes, maxAge: maxAge,
		now: time.Now, seed: maphash.MakeSeed()}
}

// KeepBatches sets how many bytes of answers to fix batches, and for how
// long, the server keeps for retries with the same batch_id; 0 bytes keeps
// none. The defaults are DefaultBatchCacheBytes and DefaultBatchCacheAge.
func (s *Server) KeepBatches(maxBytes int, maxAge time.Duration) {
	c := s.batches
	c.mu.Lock()
	defer c.mu.Unlock()
	c.maxBytes, c.maxAge = maxBytes, maxAge
	c.evict()
}

// sum hashes a batch's fixes as parsed, so that a retry sent with other
// spacing or key order, or in the other form (JSON, binary), is the same
// batch.
func (c *batchCache) sum(fixes []fixwire.Fix) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	num := func(f float64) { maphash.WriteComparable(&h, math.Float64bits(f)) }
	opt := func(f float64) {
		if math.IsNaN(f) { // not reported
			h.WriteByte(0)
			return
		}
		h.WriteByte(1)
		num(f)
	}
	for i := range fixes {
		f := &fixes[i]
		h.WriteString(f.TerminalID)
		h.WriteByte(0)
		maphash.WriteComparable(&h, f.Time.UnixNano())
		opt(f.Lat)
		opt(f.Lon)
		num(f.AltM)
		opt(f.SpeedKmh)
		h.WriteString(f.ServingCell)
		h.WriteByte(0)
	}
	return h.Sum64()
}

// begin looks batch id of caller up, for an answer of media type form. If
// it was answered, it returns the answer to send again. Otherwise it
// returns the batch, now in flight, which the caller must pass to end
// with its answer (nil if it failed); a request with the same id that
// comes meanwhile waits for it. Another batch under an id still kept, or
// the same batch asking for its answer in the other form, is refused with
// ECONFLICT.
func (c *batchCache) begin(ctx context.Context, caller, id string, sum uint64, form string) (answer []byte, b *batch, err error) {
	key := batchKey{caller, id}
	for {
		c.mu.Lock()
		c.evict()
		old := c.byKey[key]
		if old == nil {
			b = &batch{key: key, sum: sum, form: form, done: make(chan struct{})}
			c.byKey[key] = b
			c.mu.Unlock()
			return nil, b, nil
		}
		c.mu.Unlock()
		if old.sum != sum {
			c.conflicts.Add(1)
			return nil, nil, skyfence.FieldErrorf(skyfence.ECONFLICT, "batch_id",
				"batch_id %q was used for a batch with other fixes in the last %v: give each batch its own id", id, c.maxAge)
		}
		if old.form != form {
			c.conflicts.Add(1)
			return nil, nil, skyfence.FieldErrorf(skyfence.ECONFLICT, "batch_id",
				"batch_id %q was answered as %s in the last %v: retry it asking for that form (Accept)", id, old.form, c.maxAge)
		}
		select {
		case <-old.done:
		case <-ctx.Done():
			return nil, nil, skyfence.Errorf(skyfence.EUNAVAILABLE, "batch %q: still being decided", id)
		}
		if old.answer != nil {
			c.replayed.Add(1)
			return old.answer, nil, nil
		}
		// It failed: end forgot it, and this request decides it anew.
	}
}

// end records b's answer (a copy is kept), or forgets b if answer is nil,
// and wakes the requests waiting for it.
func (c *batchCache) end(b *batch, answer []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer close(b.done)
	size := len(answer) + len(b.key.caller) + len(b.key.id) + batchOverhead
	if answer == nil || size > c.maxBytes {
		delete(c.byKey, b.key)
		return
	}
	b.answer = append([]byte(nil), answer...)
	b.at = c.now()
	b.elem = c.order.PushBack(b)
	c.bytes += size
	c.evict()
}

// evict forgets the oldest answers while the cache is over its bounds or
// they are older than maxAge. c.mu is held.
func (c *batchCache) evict() {
	limit := c.now().Add(-c.maxAge)
	for e := c.order.Front(); e != nil; e = c.order.Front() {
		b := e.Value.(*batch)
		if c.bytes <= c.maxBytes && c.order.Len() <= batchCacheMax && b.at.After(limit) {
			return
		}
		c.order.Remove(e)
		c.bytes -= len(b.answer) + len(b.key.caller) + len(b.key.id) + batchOverhead
		delete(c.byKey, b.key)
	}
}

func (c *batchCache) writeMetrics(w io.Writer) {
	c.mu.Lock()
	n, bytes := c.order.Len(), c.bytes
	c.mu.Unlock()
	fmt.Fprintf(w, "# HELP skyfence_fix_batches_kept Answers to fix batches kept for retries with the same batch_id, and their bytes.\n# TYPE skyfence_fix_batches_kept gauge\nskyfence_fix_batches_kept %d\n", n)
	fmt.Fprintf(w, "# HELP skyfence_fix_batches_kept_bytes Bytes of the answers kept for retries.\n# TYPE skyfence_fix_batches_kept_bytes gauge\nskyfence_fix_batches_kept_bytes %d\n", bytes)
	fmt.Fprintf(w, "# HELP skyfence_fix_batches_retried_total Fix batches whose batch_id was kept, by what they got: the kept answer (replayed, after waiting for the first attempt if it was in flight), or a conflict (the batch_id was used for other fixes).\n# TYPE skyfence_fix_batches_retried_total counter\n")
	fmt.Fprintf(w, "skyfence_fix_batches_retried_total{what=\"replayed\"} %d\n", c.replayed.Load())
	fmt.Fprintf(w, "skyfence_fix_batches_retried_total{what=\"conflict\"} %d\n", c.conflicts.Load())
}

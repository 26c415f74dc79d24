package detect

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Queue feeds an Engine from any number of goroutines without ever making
// them wait on detection: Offer copies an observation into a bounded
// buffer, or drops it and counts it if the buffer is full. One goroutine
// calls Run, which takes the whole buffer at a time and runs the engine
// over it, in the order offered.
//
// A Queue holds at most two buffers of Config.QueueSize observations: the
// one being filled and the one being processed.
type Queue struct {
	e       *Engine // nil for a queue made by NewForwardQueue
	now     func() time.Time
	mu      sync.Mutex
	buf     []Observation
	closed  bool
	wake    chan struct{}
	offered atomic.Uint64
	dropped atomic.Uint64

	smu   sync.Mutex
	stats Stats // the engine's, as of the last buffer processed

	incidentSink atomic.Pointer[func(Incident)]
	changed      []Incident // reused by Run
}

// QueueStats counts what a Queue did.
type QueueStats struct {
	Offered uint64 `json:"offered"` // accepted
	Dropped uint64 `json:"dropped"` // refused: the buffer was full, or the queue closed
	Pending int    `json:"pending"` // waiting to be processed
	Engine  Stats  `json:"engine"`
}

// NewQueue returns a queue feeding e, which only Run may use from now on.
// If e's clock (Options.Now) is used to stamp observations, it must be
// safe for concurrent use.
func NewQueue(e *Engine) *Queue {
	return &Queue{e: e, now: e.now, buf: make([]Observation, 0, e.cfg.QueueSize), wake: make(chan struct{}, 1)}
}

// NewForwardQueue returns a queue of size observations without an engine,
// for Drain: an authorizer whose detection runs elsewhere forwards what
// ingest offers (docs/CLUSTER.md). now stamps observations without
// Received; time.Now if nil.
func NewForwardQueue(size int, now func() time.Time) *Queue {
	if now == nil {
		now = time.Now
	}
	return &Queue{now: now, buf: make([]Observation, 0, max(size, 1)), wake: make(chan struct{}, 1)}
}

// Offer queues o and reports whether it was accepted. It never blocks
// beyond a short critical section. An observation without Received is
// stamped with the engine's clock now.
func (q *Queue) Offer(o Observation) bool {
	if o.Received.IsZero() {
		o.Received = q.now()
	}
	q.mu.Lock()
	if q.closed || len(q.buf) == cap(q.buf) {
		q.mu.Unlock()
		q.dropped.Add(1)
		return false
	}
	wasEmpty := len(q.buf) == 0
	q.buf = append(q.buf, o)
	q.mu.Unlock()
	q.offered.Add(1)
	if wasEmpty {
		q.signal()
	}
	return true
}

// OfferBatch queues as many of os as there is room for, in order, under
// one lock, and returns how many it accepted; the rest are dropped and
// counted. Observations without Received are stamped with one reading of
// the engine's clock. It does not change os.
func (q *Queue) OfferBatch(os []Observation) int {
	if len(os) == 0 {
		return 0
	}
	now := q.now()
	q.mu.Lock()
	n := 0
	if !q.closed {
		n = min(len(os), cap(q.buf)-len(q.buf))
	}
	wasEmpty := len(q.buf) == 0
	start := len(q.buf)
	q.buf = append(q.buf, os[:n]...)
	for i := start; i < len(q.buf); i++ {
		if q.buf[i].Received.IsZero() {
			q.buf[i].Received = now
		}
	}
	q.mu.Unlock()
	q.offered.Add(uint64(n))
	q.dropped.Add(uint64(len(os) - n))
	if wasEmpty && n > 0 {
		q.signal()
	}
	return n
}

func (q *Queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Close stops the queue accepting observations; Run processes what is
// queued, hands on what the engine flushes (Engine.Flush) and returns nil.
func (q *Queue) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

// Run processes queued observations, handing each alert the engine emits
// to sink, until Close (then it returns nil once the queue is empty and
// the engine flushed) or until ctx is done (then it returns ctx.Err(),
// leaving the rest). sink runs on Run's goroutine: a slow sink slows
// detection, and the queue drops, but never slows the producers.
func (q *Queue) Run(ctx context.Context, sink func(Alert)) error {
	err := q.Drain(ctx, func(work []Observation) bool {
		for i := range work {
			if i%1024 == 1023 && ctx.Err() != nil {
				return false
			}
			for _, a := range q.e.Process(&work[i]) {
				sink(a)
			}
		}
		q.handIncidents()
		q.smu.Lock()
		q.stats = q.e.Stats()
		q.smu.Unlock()
		return true
	})
	if err != nil {
		return err
	}
	for _, a := range q.e.Flush() {
		sink(a)
	}
	q.handIncidents()
	return nil
}

// OnIncident has Run hand sink, on Run's goroutine, every GNSS
// interference incident that opened, grew or closed (Engine.
// ChangedIncidents), after each buffer it processed: at most one version
// of an incident per buffer. It may be called at any time, before or
// during Run; nil stops it.
func (q *Queue) OnIncident(sink func(Incident)) {
	if sink == nil {
		q.incidentSink.Store(nil)
		return
	}
	q.incidentSink.Store(&sink)
}

// handIncidents hands the incidents that changed to the sink, if any.
func (q *Queue) handIncidents() {
	sink := q.incidentSink.Load()
	if sink == nil || q.e == nil {
		return
	}
	q.changed = q.e.ChangedIncidents(q.changed[:0])
	for _, x := range q.changed {
		(*sink)(x)
	}
}

// Drain hands the queued observations to fn, the whole buffer at a time,
// in the order offered, until Close (then it returns nil once the queue
// is empty) or until ctx is done or fn returns false (then it returns
// ctx.Err(), leaving the rest). fn must not keep the slice: it is reused.
func (q *Queue) Drain(ctx context.Context, fn func([]Observation) bool) error {
	work := make([]Observation, 0, cap(q.buf))
	for {
		q.mu.Lock()
		work, q.buf = q.buf, work[:0]
		closed := q.closed
		q.mu.Unlock()
		if len(work) > 0 {
			if !fn(work) {
				return ctx.Err()
			}
			clear(work) // the records are the producers'; do not keep them alive
			continue
		}
		if closed {
			return nil
		}
		select {
		case <-q.wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Stats returns the queue's counters and the engine's as of the last
// buffer processed. It is safe to call at any time.
func (q *Queue) Stats() QueueStats {
	q.mu.Lock()
	pending := len(q.buf)
	q.mu.Unlock()
	q.smu.Lock()
	es := q.stats
	q.smu.Unlock()
	return QueueStats{Offered: q.offered.Load(), Dropped: q.dropped.Load(), Pending: pending, Engine: es}
}

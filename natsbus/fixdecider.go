package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/fixwire"
	"github.com/skyfence/skyfence/policy"
)

// FixDecider is an authorizer's side of the stream of fixes: it decides
// the batches gateways publish (FixPublisher) and answers them, as POST
// /v1/fixes does, through the authorizer. Its zero value is not usable:
// set Core and May. It is safe for concurrent use.
type FixDecider struct {
	// Core decides the fixes of a batch that are well formed, once May
	// (control.MayIngest, as for HTTP) has said that the principal of the
	// context may send fixes.
	Core *authorizer.Core
	May  func(ctx context.Context) error
	// Decided, if set, is told the results of each batch decided (the
	// API's metrics of decisions).
	Decided func(results []authorizer.Result)

	pool sync.Pool // of *fixBatch
}

// fixBatch is what deciding one batch needs, pooled with its memory.
type fixBatch struct {
	fixwire.Batch
	results []authorizer.Result
}

func (st *fixBatch) decided(k int) (*policy.Decision, error) {
	return &st.results[k].Decision, st.results[k].Err
}

// Decide decides a batch of fixes, the body of a message on the stream:
// POST /v1/fixes's body, in JSON or in the binary form (fixwire, told
// apart by the first byte), with the principal of ctx, and appends to b
// the answer POST /v1/fixes gives in the batch's form: the results, or an
// error body ({"error": {...}}, as the API's, in JSON whatever the form)
// for a batch refused whole (malformed, too large, a principal that may
// not ingest). The batch id is returned in the answer but no answer is
// kept for retries: a batch decided again gets a conflict for each fix it
// applied before.
func (d *FixDecider) Decide(ctx context.Context, body, b []byte) []byte {
	st, _ := d.pool.Get().(*fixBatch)
	if st == nil {
		st = &fixBatch{Batch: fixwire.Batch{Decoder: fixwire.Decoder{MaxFixes: authorizer.MaxBatch}}}
	}
	defer func() {
		st.Reset()
		clear(st.results)
		d.pool.Put(st)
	}()
	binary := len(body) > 0 && body[0] == fixwire.Version
	err := st.Read(body, binary)
	if err == nil {
		st.Check()
		st.results = append(st.results[:0], make([]authorizer.Result, len(st.Checked))...)
		if err = d.May(ctx); err == nil {
			err = d.Core.Ingest(st.Checked, st.results)
		}
		if err == nil {
			if d.Decided != nil {
				d.Decided(st.results)
			}
			return st.AppendAnswer(b, binary, st.decided)
		}
	}
	return appendErrorBody(b, err)
}

// appendErrorBody appends the API's error body for err, a line of JSON.
func appendErrorBody(b []byte, err error) []byte {
	type detail struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	}
	d := detail{Code: skyfence.ErrorCode(err), Message: skyfence.ErrorMessage(err)}
	var e *skyfence.Error
	if errors.As(err, &e) {
		d.Field = e.Field
	}
	out, _ := json.Marshal(struct {
		Error detail `json:"error"`
	}{d})
	return append(append(b, out...), '\n')
}

// Serve reads the partitions parts of r, each with its own Read, and
// decides their batches with Decide and the principal of principal,
// until ctx ends; it returns when every partition's reading stopped. A
// batch being decided when ctx ends is decided, answered and
// acknowledged first (principal is not ctx: it must not end with it).
// A partition whose reading stops on an error is logged to log.
func (d *FixDecider) Serve(ctx, principal context.Context, r *FixReader, parts []int, log *slog.Logger) {
	var wg sync.WaitGroup
	for _, p := range parts {
		wg.Go(func() {
			var b []byte
			decide := func(batch []byte, _ bool) []byte {
				b = d.Decide(principal, batch, b[:0])
				return b
			}
			if err := r.Read(ctx, p, decide); err != nil && ctx.Err() == nil {
				log.Error("natsbus: reading a partition of fixes stopped", "partition", p, "err", err)
			}
		})
	}
	wg.Wait()
}

// WriteMetrics writes what the reader did, in Prometheus text format.
func (r *FixReader) WriteMetrics(w io.Writer) {
	st := r.Stats()
	fmt.Fprintf(w, "# HELP skyfence_cluster_fix_batches_total Batches of fixes from NATS decided, answered and acknowledged.\n# TYPE skyfence_cluster_fix_batches_total counter\nskyfence_cluster_fix_batches_total %d\n", st.Batches)
	fmt.Fprintf(w, "# HELP skyfence_cluster_fix_batches_redelivered_total Batches of fixes delivered more than once.\n# TYPE skyfence_cluster_fix_batches_redelivered_total counter\nskyfence_cluster_fix_batches_redelivered_total %d\n", st.Redelivered)
	fmt.Fprintf(w, "# HELP skyfence_cluster_decision_publish_failures_total Failed publications of a batch's answer (retried; the batch waits).\n# TYPE skyfence_cluster_decision_publish_failures_total counter\nskyfence_cluster_decision_publish_failures_total %d\n", st.PublishFailures)
}

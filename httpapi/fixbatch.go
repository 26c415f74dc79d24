package httpapi

import (
	"context"
	"sync"

	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/fixwire"
	"github.com/skyfence/skyfence/policy"
)

// batchState is what one batch of POST /v1/fixes needs, in either form:
// the batch as read and checked, and the service's results of the fixes
// checked. They are pooled with their memory: a batch of 1,000 fixes
// takes 250 KB of them.
type batchState struct {
	fixwire.Batch
	results []authorizer.Result
}

var batchPool = sync.Pool{New: func() any {
	return &batchState{Batch: fixwire.Batch{Decoder: fixwire.Decoder{MaxFixes: authorizer.MaxBatch}}}
}}

func (st *batchState) put() {
	st.Reset()
	clear(st.results)
	st.results = st.results[:0]
	batchPool.Put(st)
}

// decide checks and decides the batch's fixes with the principal of ctx:
// per fix, the error of its check (Refused), and the service's results of
// the fixes that were well formed (Checked), in order.
func (s *Server) decide(ctx context.Context, st *batchState) error {
	st.Check()
	st.results = append(st.results[:0], make([]authorizer.Result, len(st.Checked))...)
	return s.decideFixes(ctx, st.Checked, st.results)
}

func (st *batchState) decided(k int) (*policy.Decision, error) {
	return &st.results[k].Decision, st.results[k].Err
}

// CountDecisions counts decisions made elsewhere, from batches that did
// not come over HTTP (the cluster's stream of fixes on NATS), in /metrics
// as its own.
func (s *Server) CountDecisions(results []authorizer.Result) { s.metrics.decisions(results) }

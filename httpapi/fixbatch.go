package httpapi

import (
	"context"
	"sync"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/fixwire"
	"github.com/skyfence/skyfence/policy"
)

// batchState is what one batch of POST /v1/fixes needs, in either form:
// the decoder, the fixes as sent and as checked, per fix the error of its
// check (pre) or its result, and the answer's encoder. They are pooled
// with their memory: a batch of 1,000 fixes takes 250 KB of them.
type batchState struct {
	dec     fixwire.Decoder
	ans     fixwire.Answer
	fixes   []fixwire.Fix
	checked []skyfence.Fix
	pre     []error
	results []control.Result
}

var batchPool = sync.Pool{New: func() any { return &batchState{dec: fixwire.Decoder{MaxFixes: control.MaxBatch}} }}

func (st *batchState) put() {
	clear(st.fixes) // their strings
	clear(st.checked)
	clear(st.pre)
	clear(st.results)
	st.fixes, st.checked, st.pre, st.results = st.fixes[:0], st.checked[:0], st.pre[:0], st.results[:0]
	batchPool.Put(st)
}

// read reads a batch body, in the binary form or JSON; its fixes are good
// until st is put back.
func (st *batchState) read(body []byte, binary bool) (batchID string, err error) {
	batchID, st.fixes, err = st.dec.ReadBatch(body, binary, st.fixes[:0])
	return batchID, err
}

// decide checks and decides the batch's fixes with the principal of ctx:
// per fix, the error of its check (pre), and the service's results of
// the fixes that were well formed, in order.
func (s *Server) decide(ctx context.Context, st *batchState) error {
	st.checked, st.pre = fixwire.CheckBatch(st.fixes, st.checked[:0], st.pre)
	st.results = append(st.results[:0], make([]control.Result, len(st.checked))...)
	return s.svc.Ingest(ctx, st.checked, st.results)
}

// appendAnswer appends the answer of POST /v1/fixes to b, in the binary
// form or JSON: one result per fix, in order, from decide's.
func (st *batchState) appendAnswer(b []byte, batchID string, binary bool) []byte {
	st.ans.Binary = binary
	return st.ans.Append(b, batchID, st.fixes, st.pre, st.decided)
}

func (st *batchState) decided(k int) (*policy.Decision, error) {
	return &st.results[k].Decision, st.results[k].Err
}

// CountDecisions counts decisions made elsewhere, from batches that did
// not come over HTTP (the cluster's stream of fixes on NATS), in /metrics
// as its own.
func (s *Server) CountDecisions(results []control.Result) { s.metrics.decisions(results) }

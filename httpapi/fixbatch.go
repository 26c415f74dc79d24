package httpapi

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/fixwire"
)

// fixBatch is the JSON body of POST /v1/fixes.
type fixBatch struct {
	BatchID string     `json:"batch_id"`
	Fixes   []fixInput `json:"fixes"`
}

// readFixBatch parses a JSON batch body, by the fast path if it can, and
// checks its size.
func readFixBatch(body []byte) (batchID string, fixes []fixInput, err error) {
	if batchID, fixes, err = parseFixBatch(body, nil); err != nil {
		var in fixBatch
		if err := decodeBytes(body, &in); err != nil {
			return "", nil, err
		}
		batchID, fixes = in.BatchID, in.Fixes
	}
	if len(fixes) > authorizer.MaxBatch {
		return batchID, nil, tooManyFixes(len(fixes))
	}
	return batchID, fixes, validBatchID(batchID)
}

// validBatchID checks a batch's id, which may be left out, in either form:
// a batch with an id that is not an id (skyfence.ValidID) is refused
// whole.
func validBatchID(id string) error {
	if id == "" {
		return nil
	}
	return skyfence.ValidID("batch_id", id)
}

// tooManyFixes refuses a batch of n fixes, in either form.
func tooManyFixes(n int) error {
	return skyfence.FieldErrorf(skyfence.ETOOLARGE, "fixes", "a batch holds at most %d fixes, got %d; send more batches or stream NDJSON", authorizer.MaxBatch, n)
}

// decided is a batch being decided: its fixes, and per fix the error of
// its check (pre) or its result. They are pooled: a batch of 1,000 fixes
// takes 250 KB of them.
type decided struct {
	fixes   []skyfence.Fix
	pre     []error
	results []authorizer.Result
}

var decidedPool = sync.Pool{New: func() any { return new(decided) }}

func (d *decided) put() {
	clear(d.fixes)
	clear(d.pre)
	clear(d.results)
	decidedPool.Put(d)
}

// decide checks and decides a batch's fixes with the principal of ctx. It
// returns, per fix, the error of its check (pre), and the service's
// results of the fixes that were well formed, in order; put it back when
// the answer is written.
func (s *Server) decide(ctx context.Context, in []fixInput) (*decided, error) {
	d := decidedPool.Get().(*decided)
	d.fixes, d.pre = d.fixes[:0], append(d.pre[:0], make([]error, len(in))...)
	for i := range in {
		f, err := in[i].toFix("fixes", i)
		if err != nil {
			d.pre[i] = err
			continue
		}
		d.fixes = append(d.fixes, f)
	}
	d.results = append(d.results[:0], make([]authorizer.Result, len(d.fixes))...)
	if err := s.decideFixes(ctx, d.fixes, d.results); err != nil {
		d.put()
		return nil, err
	}
	return d, nil
}

// appendAnswer appends the JSON answer of POST /v1/fixes to b: one result
// per fix, in order, from decide's pre and results.
func appendAnswer(b []byte, batchID string, in []fixInput, pre []error, results []authorizer.Result) []byte {
	b = append(b, `{"batch_id":`...)
	b = appendString(b, batchID)
	b = append(b, `,"results":[`...)
	k := 0
	for i := range in {
		if i > 0 {
			b = append(b, ',')
		}
		if pre[i] != nil {
			b = appendResult(b, in[i].TerminalID, authorizer.Result{Err: pre[i]})
			continue
		}
		b = appendResult(b, in[i].TerminalID, results[k])
		k++
	}
	return append(b, "]}\n"...)
}

// DecideBatch decides a batch of fixes given as the body of POST
// /v1/fixes, in JSON or in the binary form (fixwire, told apart by the
// first byte), for a caller other than HTTP (a cluster's fix stream on
// NATS JetStream, docs/CLUSTER.md), with the principal of ctx, and appends
// to b the answer POST /v1/fixes gives in the batch's form: the results,
// or an error body ({"error": {...}}, as the API's, in JSON whatever the
// form) for a batch refused whole (malformed, too large, a principal that
// may not ingest). The batch id is returned in the answer but no answer is
// kept for retries: a batch decided again gets a conflict for each fix it
// applied before.
func (s *Server) DecideBatch(ctx context.Context, body, b []byte) []byte {
	read, answer := readFixBatch, appendAnswer
	if len(body) > 0 && body[0] == fixwire.Version {
		st := wirePool.Get().(*wireState)
		defer st.put()
		read, answer = st.readBatch, st.appendAnswer
	}
	batchID, in, err := read(body)
	if err == nil {
		var d *decided
		if d, err = s.decide(ctx, in); err == nil {
			defer d.put()
			s.metrics.decisions(d.results)
			return answer(b, batchID, in, d.pre, d.results)
		}
	}
	out, _ := json.Marshal(errorBody{detailOf(err)})
	return append(append(b, out...), '\n')
}

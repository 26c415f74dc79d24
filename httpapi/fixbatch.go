package httpapi

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/control"
)

// fixBatch is the JSON body of POST /v1/fixes.
type fixBatch struct {
	BatchID string     `json:"batch_id"`
	Fixes   []fixInput `json:"fixes"`
}

// readFixBatch parses a batch body, by the fast path if it can, and
// checks its size.
func readFixBatch(body []byte) (fixBatch, error) {
	var in fixBatch
	var err error
	if in.BatchID, in.Fixes, err = parseFixBatch(body, nil); err != nil {
		in = fixBatch{}
		if err := decodeBytes(body, &in); err != nil {
			return in, err
		}
	}
	if len(in.Fixes) > control.MaxBatch {
		return in, skyfence.FieldErrorf(skyfence.ETOOLARGE, "fixes", "a batch holds at most %d fixes, got %d; send more batches or stream NDJSON", control.MaxBatch, len(in.Fixes))
	}
	return in, nil
}

// decide checks and decides a batch's fixes with the principal of ctx and
// appends the answer of POST /v1/fixes to b: one result per fix, in
// order. It returns the service's results (of the fixes that were well
// formed), for the metrics.
func (s *Server) decide(ctx context.Context, batchID string, in []fixInput, b []byte) ([]byte, []control.Result, error) {
	fixes := make([]skyfence.Fix, 0, len(in))
	pre := make([]error, len(in))
	for i := range in {
		f, err := in[i].toFix("fixes/" + strconv.Itoa(i))
		if err != nil {
			pre[i] = err
			continue
		}
		fixes = append(fixes, f)
	}
	results := make([]control.Result, len(fixes))
	if err := s.svc.Ingest(ctx, fixes, results); err != nil {
		return b, nil, err
	}
	b = append(b, `{"batch_id":`...)
	b = strconv.AppendQuote(b, batchID)
	b = append(b, `,"results":[`...)
	k := 0
	for i := range in {
		if i > 0 {
			b = append(b, ',')
		}
		if pre[i] != nil {
			b = appendResult(b, in[i].TerminalID, control.Result{Err: pre[i]})
			continue
		}
		b = appendResult(b, in[i].TerminalID, results[k])
		k++
	}
	return append(b, "]}\n"...), results, nil
}

// DecideBatch decides a batch of fixes given as the JSON body of POST
// /v1/fixes, for a caller other than HTTP (a cluster's fix stream on NATS
// JetStream, docs/CLUSTER.md), with the principal of ctx, and appends to
// b the answer POST /v1/fixes gives: the results, or an error body
// ({"error": {...}}, as the API's) for a batch refused whole (malformed,
// too large, a principal that may not ingest). The batch id is returned
// in the answer but no answer is kept for retries: a batch decided again
// gets a conflict for each fix it applied before.
func (s *Server) DecideBatch(ctx context.Context, body, b []byte) []byte {
	in, err := readFixBatch(body)
	if err == nil {
		var results []control.Result
		var out []byte
		if out, results, err = s.decide(ctx, in.BatchID, in.Fixes, b); err == nil {
			s.metrics.decisions(results)
			return out
		}
	}
	out, _ := json.Marshal(errorBody{detailOf(err)})
	return append(append(b, out...), '\n')
}

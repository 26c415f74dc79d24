package httpapi_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
)

// batchBody is a batch of fixes of ut-1 and ut-2 in Kyiv, one minute
// apart from start, with a batch id.
func batchBody(id string, start time.Time, n int) map[string]any {
	var fixes []map[string]any
	for i := range n {
		fixes = append(fixes, fix([]string{"ut-1", "ut-2"}[i%2], start.Add(time.Duration(i)*time.Minute), 50.45, 30.52, 0))
	}
	return map[string]any{"batch_id": id, "fixes": fixes}
}

// A batch sent again with its batch id gets the same answer, byte for byte,
// and nothing is decided again; once the answer is forgotten, the batch is
// decided again and every fix is refused as not newer than itself: nothing
// is applied twice.
func TestBatchRetry(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"ut-1", "ut-2"} {
		e.register(id, "residential", "UA", true)
		e.must("operator", "POST", "/v1/terminals/"+id+"/activate", map[string]float64{"lat": 50.45, "lon": 30.52}, 200, nil)
	}
	fixes := func() uint64 { return e.svc.Authorizer().Stats.Fixes.Load() }
	send := func(body map[string]any) []byte {
		t.Helper()
		code, b := e.do("gateway", "POST", "/v1/fixes", body)
		if code != 200 {
			t.Fatalf("POST /v1/fixes: %d %s", code, b)
		}
		return b
	}

	// Fixes may not be more than 5 minutes ahead of the server's clock.
	a := batchBody("gw7-1", testNow.Add(-10*time.Minute), 4)
	first := send(a)
	var got struct {
		BatchID string `json:"batch_id"`
		Results []result
	}
	if err := json.Unmarshal(first, &got); err != nil || got.BatchID != "gw7-1" || len(got.Results) != 4 || got.Results[3].Error != nil {
		t.Fatalf("first answer %s (%v)", first, err)
	}
	decided := fixes()

	if again := send(a); !bytes.Equal(again, first) {
		t.Errorf("the retry got\n%s\nwant the first answer\n%s", again, first)
	}
	if n := fixes(); n != decided {
		t.Errorf("the retry was decided again: %d fixes, want %d", n, decided)
	}
	if m := metric(t, e, `skyfence_fix_batches_retried_total{what="replayed"}`); m != "1" {
		t.Errorf("replayed retries %q, want 1", m)
	}

	// The same id for other fixes is refused, not replayed.
	e.wantError("gateway", "POST", "/v1/fixes", batchBody("gw7-1", testNow.Add(-6*time.Minute), 4), 409, "conflict", "batch_id")
	// Another key's batch of the same id is its own.
	if code, b := e.do("admin", "POST", "/v1/fixes", batchBody("gw7-1", testNow.Add(-6*time.Minute), 2)); code != 200 || strings.Contains(string(b), `"error"`) {
		t.Errorf("another key's gw7-1: %d %s", code, b)
	}

	// Keep room for one answer only: a second batch makes the server
	// forget the first.
	e.api.KeepBatches(len(first)+200, time.Hour)
	send(batchBody("gw7-2", testNow, 2))
	before := fixes()
	late := send(a)
	if err := json.Unmarshal(late, &got); err != nil || len(got.Results) != 4 {
		t.Fatalf("late retry: %s (%v)", late, err)
	}
	for i, r := range got.Results {
		if r.Error == nil || r.Error.Code != string(skyfence.ECONFLICT) || r.Error.Field != "time" {
			t.Errorf("late retry, fix %d: %+v, want a conflict on time (already applied)", i, r)
		}
	}
	if n := fixes(); n != before+4 {
		t.Errorf("fixes received %d, want %d", n, before+4)
	}
	var st skyfence.TerminalState
	e.must("viewer", "GET", "/v1/terminals/ut-1/state", nil, 200, &st)
	if want := testNow; !st.Fix.Time.Equal(want) {
		t.Errorf("ut-1's last fix at %v, want %v (the late retry applied nothing)", st.Fix.Time, want)
	}
}

// Two requests of one batch at once (a gateway that retried before the
// first answer came) are decided once: both get the one answer.
func TestBatchRetryInFlight(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"ut-1", "ut-2"} {
		e.register(id, "residential", "UA", true)
		e.must("operator", "POST", "/v1/terminals/"+id+"/activate", map[string]float64{"lat": 50.45, "lon": 30.52}, 200, nil)
	}
	body := batchBody("gw7-1", testNow, 1000)
	var wg sync.WaitGroup
	answers := make([][]byte, 4)
	for i := range answers {
		wg.Go(func() {
			code, b := e.do("gateway", "POST", "/v1/fixes", body)
			if code != 200 {
				t.Errorf("POST /v1/fixes: %d %s", code, b)
			}
			answers[i] = b
		})
	}
	wg.Wait()
	for i, b := range answers[1:] {
		if !bytes.Equal(b, answers[0]) {
			t.Errorf("answer %d differs from the first", i+1)
		}
	}
	if strings.Contains(string(answers[0]), `"conflict"`) {
		t.Errorf("the batch was decided twice: %.300s", answers[0])
	}
	if n := e.svc.Authorizer().Stats.Fixes.Load(); n != 1000 {
		t.Errorf("fixes received %d, want 1000", n)
	}
}

func metric(t *testing.T, e *env, line string) string {
	t.Helper()
	_, b := e.do("", "GET", "/metrics", nil)
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, line+" "); ok {
			return v
		}
	}
	return ""
}

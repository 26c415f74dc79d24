package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/fixwire"
	"github.com/skyfence/skyfence/httpapi"
)

// post sends body to /v1/fixes as the holder of key with the content type
// and Accept given, and returns the status, the answer's content type and
// the answer.
func (e *env) post(key string, body []byte, contentType, accept string) (int, string, []byte) {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.url+"/v1/fixes", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+e.keys[key])
	}
	req.Header.Set("Content-Type", contentType)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// fleet registers the terminals of mixedBatch.
func (e *env) fleet() {
	e.register("ut-1", "residential", "UA", true)
	e.register("ut-2", "roam", "DE", false)
	e.register("ut-3", "maritime", "UA", true)
	for id, at := range map[string][2]float64{"ut-1": {50.45, 30.52}, "ut-2": {52.52, 13.40}, "ut-3": {50.45, 30.52}} {
		e.must("operator", "POST", "/v1/terminals/"+id+"/activate", map[string]float64{"lat": at[0], "lon": at[1]}, 200, nil)
	}
}

// mixedBatch has fixes of every kind: allowed and denied, at sea and in a
// zone, with and without speed, altitude and cell, of an unknown
// terminal, and refused ones (malformed, not newer, too far ahead).
func mixedBatch() []fixwire.Fix {
	nan := math.NaN()
	at := testNow.Add(-4 * time.Minute)
	return []fixwire.Fix{
		{TerminalID: "ut-1", Time: at, Lat: 50.45, Lon: 30.52, SpeedKmh: 12.5},
		{TerminalID: "ut-2", Time: at, Lat: 52.52, Lon: 13.40, AltM: 120, SpeedKmh: nan, ServingCell: "beam-7"},
		{TerminalID: "ut-3", Time: at, Lat: 46.2, Lon: 31.5, SpeedKmh: 30, ServingCell: "beam-7"},
		{TerminalID: "ut-1", Time: at.Add(time.Minute), Lat: 46.64, Lon: 32.62, SpeedKmh: nan},
		{TerminalID: "ut-1", Time: at.Add(time.Minute), Lat: 46.64, Lon: 32.62, SpeedKmh: 1}, // not newer
		{TerminalID: "ut-9", Time: at, Lat: 48.85, Lon: 2.35, SpeedKmh: 0},                   // unknown
		{TerminalID: "ut-2", Time: at.Add(time.Minute), Lat: 91, Lon: 13.40, SpeedKmh: 3},    // lat
		{TerminalID: "ut-2", Time: at.Add(time.Minute), Lat: nan, Lon: 13.40, SpeedKmh: 3},   // no lat
		{TerminalID: "ut-2", Time: at.Add(time.Minute), Lat: 52.52, Lon: 13.40, SpeedKmh: -2},
		{TerminalID: "", Time: at, Lat: 52.52, Lon: 13.40, SpeedKmh: 3},
		{TerminalID: "ut-3", Lat: 46.2, Lon: 31.5, SpeedKmh: 3},                                           // no time
		{TerminalID: "ut-3", Time: testNow.Add(time.Hour), Lat: 46.2, Lon: 31.5, SpeedKmh: 3},             // ahead
		{TerminalID: "ut-3", Time: at.Add(2 * time.Minute), Lat: 0, Lon: -30, SpeedKmh: 900},              // at sea, fast
		{TerminalID: "ut-3", Time: at.Add(3 * time.Minute), Lat: 0, Lon: -30, AltM: -4, ServingCell: "b"}, // speed 0
	}
}

// jsonAnswer reads a JSON answer as fixwire's results.
func jsonAnswer(t *testing.T, b []byte) (string, []fixwire.Result) {
	t.Helper()
	var out struct {
		BatchID string `json:"batch_id"`
		Results []struct {
			TerminalID    string   `json:"terminal_id"`
			Allow         bool     `json:"allow"`
			Reason        string   `json:"reason"`
			Message       string   `json:"message"`
			Rule          string   `json:"rule"`
			Country       string   `json:"country"`
			Land          bool     `json:"land"`
			Zones         []string `json:"zones"`
			SpeedKmh      float64  `json:"speed_kmh"`
			ExemptRule    string   `json:"exempt_rule"`
			ExemptBy      string   `json:"exempt_by"`
			PolicyVersion string   `json:"policy_version"`
			Error         *fixwire.FixError
		}
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	var rs []fixwire.Result
	for _, r := range out.Results {
		if len(r.Zones) == 0 {
			r.Zones = nil
		}
		rs = append(rs, fixwire.Result{TerminalID: r.TerminalID, Allow: r.Allow, Reason: r.Reason, Message: r.Message, Rule: r.Rule,
			Country: r.Country, Land: r.Land, Zones: r.Zones, SpeedKmh: r.SpeedKmh, ExemptRule: r.ExemptRule, ExemptBy: r.ExemptBy,
			PolicyVersion: r.PolicyVersion, Err: r.Error})
	}
	return out.BatchID, rs
}

// A batch sent in JSON to one server and in binary to another, both with
// the same terminals, gets the same decisions and errors, field by field.
func TestBinaryDecidesAsJSON(t *testing.T) {
	fixes := mixedBatch()
	ej, eb := newEnv(t), newEnv(t)
	ej.fleet()
	eb.fleet()

	code, ct, jb := ej.post("gateway", fixwire.AppendJSONRequest(nil, "gw7-1", fixes), "application/json", "")
	if code != 200 || ct != "application/json" {
		t.Fatalf("JSON: %d %s %s", code, ct, jb)
	}
	jid, want := jsonAnswer(t, jb)

	var enc fixwire.Encoder
	code, ct, bb := eb.post("gateway", enc.AppendRequest(nil, "gw7-1", fixes), fixwire.ContentType, "")
	if code != 200 || ct != fixwire.ContentType {
		t.Fatalf("binary: %d %s %s", code, ct, bb)
	}
	var dec fixwire.Decoder
	bid, got, err := dec.Answer(bb, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bid != jid || len(got) != len(want) {
		t.Fatalf("binary answered %q with %d results, JSON %q with %d", bid, len(got), jid, len(want))
	}
	kinds := map[string]bool{}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("fix %d: binary %+v (error %+v)\nJSON %+v (error %+v)", i, got[i], got[i].Err, want[i], want[i].Err)
		}
		if got[i].Err != nil {
			kinds[got[i].Err.Code+" "+got[i].Err.Field] = true
		} else {
			kinds[got[i].Reason] = true
		}
	}
	if len(kinds) < 8 {
		t.Errorf("the batch shows only %d kinds of answer: %v", len(kinds), kinds)
	}
	if len(bb) >= len(jb)/2 {
		t.Errorf("binary answer of %d bytes, JSON %d", len(bb), len(jb))
	}
	if m, w := metric(t, eb, `skyfence_decisions_total{reason="ok"}`), metric(t, ej, `skyfence_decisions_total{reason="ok"}`); m != w || m == "0" {
		t.Errorf("decisions ok: binary %s, JSON %s", m, w)
	}
	if m, w := metric(t, eb, `skyfence_fixes_rejected_total`), metric(t, ej, `skyfence_fixes_rejected_total`); m != w || m == "0" {
		t.Errorf("rejected: binary %s, JSON %s", m, w)
	}
}

// The answer's form follows the request's unless Accept names only the
// other one.
func TestAnswerForm(t *testing.T) {
	e := newEnv(t)
	e.fleet()
	var enc fixwire.Encoder
	at := testNow.Add(-4 * time.Minute)
	for i, c := range []struct{ in, accept, want string }{
		{fixwire.ContentType, "", fixwire.ContentType},
		{fixwire.ContentType, "*/*", fixwire.ContentType},
		{fixwire.ContentType, "application/json", "application/json"},
		{fixwire.ContentType, "application/json, " + fixwire.ContentType, fixwire.ContentType},
		{"application/json", fixwire.ContentType + ";q=1", fixwire.ContentType},
		{"application/json", "application/json;q=0.9, " + fixwire.ContentType, "application/json"},
		{"application/json", "", "application/json"},
	} {
		fixes := []fixwire.Fix{{TerminalID: "ut-1", Time: at.Add(time.Duration(i) * time.Second), Lat: 50.45, Lon: 30.52, SpeedKmh: 1}}
		body := fixwire.AppendJSONRequest(nil, "", fixes)
		if c.in == fixwire.ContentType {
			body = enc.AppendRequest(nil, "", fixes)
		}
		code, ct, b := e.post("gateway", body, c.in, c.accept)
		if code != 200 || ct != c.want {
			t.Errorf("%s, Accept %q: %d %s, want %s", c.in, c.accept, code, ct, c.want)
			continue
		}
		var rs []fixwire.Result
		if ct == fixwire.ContentType {
			var dec fixwire.Decoder
			_, rs, _ = dec.Answer(b, nil)
		} else {
			_, rs = jsonAnswer(t, b)
		}
		if len(rs) != 1 || rs[0].Err != nil || rs[0].Reason == "" {
			t.Errorf("%s, Accept %q: %q, want one decision", c.in, c.accept, b)
		}
	}
}

// A binary batch with a batch id is answered once, as a JSON one is; the
// same id asking for its answer in JSON is refused.
func TestBinaryBatchRetry(t *testing.T) {
	e := newEnv(t)
	e.fleet()
	fixes := mixedBatch()[:4]
	var enc fixwire.Encoder
	body := enc.AppendRequest(nil, "gw7-1", fixes)
	code, _, first := e.post("gateway", body, fixwire.ContentType, "")
	if code != 200 {
		t.Fatalf("%d %s", code, first)
	}
	decided := e.svc.Authorizer().Stats.Fixes.Load()
	if _, _, again := e.post("gateway", body, fixwire.ContentType, ""); !bytes.Equal(again, first) {
		t.Errorf("the retry got another answer")
	}
	if n := e.svc.Authorizer().Stats.Fixes.Load(); n != decided {
		t.Errorf("the retry was decided again: %d fixes, want %d", n, decided)
	}
	// The same fixes in JSON are the same batch; answered in JSON they
	// would not be the answer kept.
	code, _, b := e.post("gateway", fixwire.AppendJSONRequest(nil, "gw7-1", fixes), "application/json", "")
	var ae apiError
	if _ = json.Unmarshal(b, &ae); code != 409 || ae.Error.Field != "batch_id" || !strings.Contains(ae.Error.Message, fixwire.ContentType) {
		t.Errorf("the batch in JSON: %d %s", code, b)
	}
	if _, _, again := e.post("gateway", fixwire.AppendJSONRequest(nil, "gw7-1", fixes), "application/json", fixwire.ContentType); !bytes.Equal(again, first) {
		t.Errorf("the batch in JSON, answer in binary: not the answer kept")
	}
	// Other fixes under the id: a conflict, as in JSON.
	code, _, b = e.post("gateway", enc.AppendRequest(nil, "gw7-1", fixes[:2]), fixwire.ContentType, "")
	if code != 409 {
		t.Errorf("other fixes under gw7-1: %d %s", code, b)
	}
	if m := metric(t, e, `skyfence_fix_batches_retried_total{what="replayed"}`); m != "2" {
		t.Errorf("replayed %q, want 2", m)
	}
}

// Bad binary bodies are refused whole with an error that says where;
// limits and roles are those of JSON.
func TestBinaryBadInput(t *testing.T) {
	e := newEnv(t)
	e.fleet()
	var enc fixwire.Encoder
	good := enc.AppendRequest(nil, "", mixedBatch()[:2])
	check := func(name, key string, body []byte, status int, code, field, says string) {
		t.Helper()
		got, ct, b := e.post(key, body, fixwire.ContentType, "")
		var ae apiError
		_ = json.Unmarshal(b, &ae)
		if got != status || ct != "application/json" || ae.Error.Code != code || ae.Error.Field != field || !strings.Contains(ae.Error.Message, says) {
			t.Errorf("%s: %d %s %+v, want %d %s field %q saying %q", name, got, ct, ae.Error, status, code, field, says)
		}
	}
	check("truncated", "gateway", good[:len(good)-3], 400, "invalid", "fixes/1/cell", "at byte 76")
	check("JSON", "gateway", []byte(`{"fixes":[]}`), 400, "invalid", "", "JSON")
	check("version", "gateway", append([]byte{9}, good[1:]...), 400, "invalid", "", "version 9")
	check("trailing", "gateway", append(append([]byte(nil), good...), 7), 400, "invalid", "", "byte ")
	check("a viewer", "viewer", good, 403, "forbidden", "", "")
	check("no key", "", good, 401, "unauthorized", "", "")
	many := make([]fixwire.Fix, authorizer.MaxBatch+1)
	for i := range many {
		many[i] = fixwire.Fix{TerminalID: "ut-1", Time: testNow, Lat: 1, Lon: 2, SpeedKmh: math.NaN()}
	}
	check("too many", "gateway", enc.AppendRequest(nil, "", many), 413, "too_large", "fixes", "at most 10000")
	huge := enc.AppendRequest(nil, strings.Repeat("x", httpapi.MaxBodyBytes), nil)
	check("too big", "gateway", huge, 413, "too_large", "", "larger than")
	if n := e.svc.Authorizer().Stats.Fixes.Load(); n != 0 {
		t.Errorf("%d fixes taken from bad bodies", n)
	}
}

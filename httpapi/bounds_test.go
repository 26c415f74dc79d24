package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/skyfence/skyfence/fixwire"
	"github.com/skyfence/skyfence/httpapi"
)

// raw sends a request with the headers given and returns the status and
// the answer.
func (e *env) raw(method, path string, headers map[string]string, body io.Reader) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestContentTypes: a JSON route refuses a body it is told is something
// else, 415, before reading it, and registers nothing; JSON with or
// without parameters, and no Content-Type at all, are taken.
func TestContentTypes(t *testing.T) {
	e := newEnv(t)
	auth := "Bearer " + e.keys["operator"]
	body := func(id string) io.Reader { return strings.NewReader(`{"id": "` + id + `"}`) }
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1", "application/x-ndjson", fixwire.ContentType, "json", ";;"} {
		code, b := e.raw("POST", "/v1/accounts", map[string]string{"Authorization": auth, "Content-Type": ct}, body("acct-refused"))
		var ae apiError
		if json.Unmarshal(b, &ae); code != 415 || ae.Error.Code != "unsupported_media_type" {
			t.Errorf("Content-Type %q: %d %s, want 415 unsupported_media_type", ct, code, b)
		}
	}
	for i, ct := range []string{"", "application/json", "application/json; charset=utf-8", "Application/JSON; Charset=UTF-8"} {
		h := map[string]string{"Authorization": auth}
		if ct != "" {
			h["Content-Type"] = ct
		}
		if code, b := e.raw("POST", "/v1/accounts", h, body(fmt.Sprintf("acct-%d", i))); code != 201 {
			t.Errorf("Content-Type %q: %d %s, want 201", ct, code, b)
		}
	}
	// The batch of fixes takes its three forms, and no other.
	gw := "Bearer " + e.keys["gateway"]
	code, b := e.raw("POST", "/v1/fixes", map[string]string{"Authorization": gw, "Content-Type": "text/csv"}, strings.NewReader("ut-1,1,2"))
	if code != 415 || !bytes.Contains(b, []byte("application/x-ndjson")) {
		t.Errorf("fixes as text/csv: %d %s", code, b)
	}
	for _, ct := range []string{"application/json", "application/x-ndjson", ""} {
		if code, b := e.raw("POST", "/v1/fixes", map[string]string{"Authorization": gw, "Content-Type": ct}, strings.NewReader(`{"fixes": []}`)); code != 200 {
			t.Errorf("fixes as %q: %d %s", ct, code, b)
		}
	}
}

// TestBearerScheme: the scheme of Authorization is case-insensitive (RFC
// 7235), and anything but Bearer and a key is refused.
func TestBearerScheme(t *testing.T) {
	e := newEnv(t)
	key := e.keys["viewer"]
	for _, h := range []string{"Bearer " + key, "bearer " + key, "BEARER " + key, "bEaReR  " + key, " Bearer " + key + " "} {
		if code, b := e.raw("GET", "/v1/me", map[string]string{"Authorization": h}, nil); code != 200 {
			t.Errorf("Authorization %q: %d %s", strings.Replace(h, key, "<key>", 1), code, b)
		}
	}
	for _, h := range []string{"Basic " + key, "Bearer", "Bearer ", key, "Bearerx " + key, "Bearer " + key + "x"} {
		if code, _ := e.raw("GET", "/v1/me", map[string]string{"Authorization": h}, nil); code != 401 {
			t.Errorf("Authorization %q: %d, want 401", strings.Replace(h, key, "<key>", 1), code)
		}
	}
}

// TestNDJSONBounds: the NDJSON stream has the body limit of every route.
// With a Content-Length over it the stream is refused before a line is
// decided; a stream sent without one is decided up to the limit and its
// answer ends with an error naming the line where it was cut. A line over
// MaxLineBytes is an error of its own, naming it, and the stream goes on.
func TestNDJSONBounds(t *testing.T) {
	e := newEnv(t)
	e.register("ut-1", "residential", "UA", true)
	e.must("operator", "POST", "/v1/terminals/ut-1/activate", map[string]float64{"lat": 50.45, "lon": 30.52}, 200, nil)
	at := testNow
	line := func() string {
		at = at.Add(time.Millisecond)
		return fmt.Sprintf(`{"terminal_id":"ut-1","time":%q,"lat":50.45,"lon":30.52,"speed_kmh":1}`+"\n", at.Format(time.RFC3339Nano))
	}
	gw := map[string]string{"Authorization": "Bearer " + e.keys["gateway"], "Content-Type": "application/x-ndjson"}

	// A line too long, between two good ones.
	var b strings.Builder
	b.WriteString(line())
	b.WriteString(`{"terminal_id":"` + strings.Repeat("x", httpapi.MaxLineBytes) + `"}` + "\n")
	b.WriteString(line())
	code, out := e.raw("POST", "/v1/fixes", gw, strings.NewReader(b.String()))
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if code != 200 || len(lines) != 3 || !strings.Contains(lines[1], `"code":"too_large"`) || !strings.Contains(lines[1], `"field":"line/2"`) ||
		!strings.Contains(lines[0], `"allow":true`) || !strings.Contains(lines[2], `"allow":true`) {
		t.Errorf("a line over %d bytes: %d %.500s", httpapi.MaxLineBytes, code, out)
	}

	// Over the limit with a Content-Length: refused whole, nothing decided.
	var big strings.Builder
	for big.Len() <= httpapi.MaxBodyBytes {
		big.WriteString(line())
	}
	n := strings.Count(big.String(), "\n")
	code, out = e.raw("POST", "/v1/fixes", gw, strings.NewReader(big.String()))
	if code != 413 || !bytes.Contains(out, []byte(`"too_large"`)) {
		t.Errorf("a stream of %d bytes: %d %.300s, want 413", big.Len(), code, out)
	}
	var st struct{ Fix struct{ Time time.Time } }
	e.must("viewer", "GET", "/v1/terminals/ut-1/state", nil, 200, &st)
	if !st.Fix.Time.Before(testNow.Add(time.Second)) {
		t.Errorf("a refused stream was decided: the last fix is at %v", st.Fix.Time)
	}

	// The same without a Content-Length (a reader the client cannot
	// measure): decided up to the limit, then an error line.
	code, out = e.raw("POST", "/v1/fixes", gw, io.MultiReader(strings.NewReader(big.String())))
	lines = strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	var end struct {
		Error struct{ Code, Message, Field string }
	}
	if err := json.Unmarshal([]byte(last), &end); err != nil || code != 200 || end.Error.Code != "too_large" || !strings.HasPrefix(end.Error.Field, "line/") {
		t.Fatalf("a chunked stream over the limit: %d, last line %.300s", code, last)
	}
	decided := len(lines) - 1
	if decided < n/2 || decided >= n || end.Error.Field != fmt.Sprintf("line/%d", decided+1) {
		t.Errorf("%d of %d lines decided, cut at %s (%s)", decided, n, end.Error.Field, end.Error.Message)
	}
	for i, l := range lines[:decided] {
		if !strings.Contains(l, `"allow":true`) {
			t.Fatalf("line %d: %s", i+1, l)
		}
	}
}

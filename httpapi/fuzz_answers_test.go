package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/skyfence/skyfence/fixwire"
)

// FuzzAnswersAreJSON registers and sends arbitrary ids and strings
// through the HTTP handlers (accounts, terminals, cells, cases, fixes in
// JSON, NDJSON and the binary form, the listings) and checks that every
// answer is valid UTF-8 and parses with encoding/json, whatever the
// input: escaped, or pasted raw into the body.
func FuzzAnswersAreJSON(f *testing.F) {
	for _, seed := range [][2]string{
		{"ut-1", "a name"}, {"ut\a1", "bell\a"}, {"ut\xff", "\xfe\xff"}, {"x\u200by", "\u202eUA"},
		{`"}]`, `\u0000`}, {"", ""}, {strings.Repeat("u", 129), "\u2028"}, {"ut 1", "\x00\x1f\x7f"},
	} {
		f.Add(seed[0], seed[1])
	}
	e := newEnv(f)
	e.register("ut-1", "roam", "UA", false)
	at := testNow
	f.Fuzz(func(t *testing.T, id, s string) {
		do := func(key, method, path, ct string, body []byte) (int, []byte) {
			req, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
			if err != nil {
				return 0, nil // a path net/http cannot send: nothing was asked
			}
			req.Header.Set("Authorization", "Bearer "+e.keys[key])
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, b
		}
		check := func(what string, b []byte, ndjson bool) {
			t.Helper()
			if !utf8.Valid(b) {
				t.Fatalf("%s: the answer is not UTF-8: %q", what, b)
			}
			docs := [][]byte{b}
			if ndjson {
				docs = bytes.Split(bytes.TrimSpace(b), []byte("\n"))
			}
			for _, d := range docs {
				if len(d) > 0 && !json.Valid(d) {
					t.Fatalf("%s: not JSON: %q", what, d)
				}
			}
		}
		jid, _ := json.Marshal(id)
		js, _ := json.Marshal(s)
		at = at.Add(time.Millisecond)
		when := `"` + at.Format(time.RFC3339Nano) + `"`
		for _, q := range []struct{ id, s string }{{string(jid), string(js)}, {`"` + id + `"`, `"` + s + `"`}} {
			for _, r := range []struct{ key, method, path, body string }{
				{"operator", "POST", "/v1/accounts", `{"id":` + q.id + `,"name":` + q.s + `}`},
				{"operator", "POST", "/v1/terminals", `{"id":` + q.id + `,"account_id":"acct-ut-1","plan":"roam","country":"UA","groups":[` + q.s + `]}`},
				{"operator", "PUT", "/v1/cells/" + url.PathEscape(id), `{"capacity":1}`},
				{"investigator", "POST", "/v1/cases", `{"terminal_id":` + q.id + `,"title":` + q.s + `}`},
				{"gateway", "POST", "/v1/fixes", `{"batch_id":` + q.s + `,"fixes":[{"terminal_id":` + q.id + `,"time":` + when + `,"lat":50.45,"lon":30.52,"cell":` + q.s + `}]}`},
				{"gateway", "POST", "/v1/fixes", `{"fixes":[{"terminal_id":` + q.id + `,"time":` + when + `,"lat":50.45,"lon":30.52}]}`},
			} {
				_, b := do(r.key, r.method, r.path, "application/json", []byte(r.body))
				check(r.method+" "+r.path+" "+r.body, b, false)
			}
			line := `{"terminal_id":` + q.id + `,"time":` + when + `,"lat":50.45,"lon":30.52}` + "\n" + s + "\n"
			_, b := do("gateway", "POST", "/v1/fixes", "application/x-ndjson", []byte(line))
			check("NDJSON "+line, b, true)
		}
		var enc fixwire.Encoder
		var dec fixwire.Decoder
		for _, batch := range []string{"", s} {
			code, b := do("gateway", "POST", "/v1/fixes", fixwire.ContentType, enc.AppendRequest(nil, batch, []fixwire.Fix{{TerminalID: id, Time: at, Lat: 50.45, Lon: 30.52, SpeedKmh: 0, ServingCell: s}}))
			if code != 200 {
				check("binary batch "+batch, b, false)
				continue
			}
			_, rs, err := dec.Answer(b, nil)
			if err != nil || len(rs) != 1 || !utf8.ValidString(rs[0].TerminalID) || rs[0].Err != nil && !utf8.ValidString(rs[0].Err.Message) {
				t.Fatalf("binary answer for %q: %+v %v", id, rs, err)
			}
		}
		for _, path := range []string{"/v1/states", "/v1/terminals?account_id=" + url.QueryEscape(s), "/v1/terminals/" + url.PathEscape(id), "/v1/terminals/" + url.PathEscape(id) + "/state", "/v1/cases?terminal_id=" + url.QueryEscape(id)} {
			_, b := do("investigator", "GET", path, "", nil)
			check("GET "+path, b, false)
		}
	})
}

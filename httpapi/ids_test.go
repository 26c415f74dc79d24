package httpapi_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/fixwire"
	"github.com/skyfence/skyfence/internal/testkit/teststore"
)

// badIDs are ids no registration accepts (skyfence.ValidID), each as a
// client could send it in JSON (the bytes that are not UTF-8 arrive as
// U+FFFD).
var badIDs = map[string]string{
	"bell":             "ut\a1",
	"NUL":              "ut\x001",
	"newline":          "ut-1\n",
	"space":            "ut 1",
	"zero-width space": "ut\u200b1",
	"RTL override":     "ut\u202e1",
	"hangul filler":    "ut\u31641",
	"not UTF-8":        "ut\xff1",
	"U+FFFD":           "ut\ufffd1",
	"129 bytes":        strings.Repeat("u", skyfence.MaxIDLen+1),
}

// validAnswer fails unless b is valid UTF-8 and a JSON value (or, for
// NDJSON, a JSON value per line).
func validAnswer(t testing.TB, what string, b []byte, ndjson bool) {
	t.Helper()
	if !utf8.Valid(b) {
		t.Errorf("%s: the answer is not UTF-8: %q", what, b)
	}
	docs := [][]byte{b}
	if ndjson {
		docs = bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	}
	for _, d := range docs {
		if !json.Valid(d) {
			t.Errorf("%s: not JSON (RFC 8259): %q", what, d)
		}
	}
}

// sendFixes posts body to /v1/fixes as the gateway, with the content
// type, and returns the status and the answer.
func (e *env) sendFixes(ct string, body []byte) (int, []byte) {
	e.t.Helper()
	code, _, b := e.post("gateway", body, ct, "")
	return code, b
}

// TestIDsAreCheckedAtRegistration: an account, a terminal, its groups, a
// capacity cell and a terminal of an import with an id that is not an id
// are refused, naming the field, and nothing is registered.
func TestIDsAreCheckedAtRegistration(t *testing.T) {
	e := newEnv(t)
	e.must("operator", "POST", "/v1/accounts", map[string]string{"id": "acct-1"}, 201, nil)
	for name, id := range badIDs {
		t.Run(name, func(t *testing.T) {
			e.t = t
			e.wantError("operator", "POST", "/v1/accounts", map[string]string{"id": id}, 400, "invalid", "id")
			e.wantError("operator", "POST", "/v1/terminals", map[string]any{"id": id, "account_id": "acct-1", "plan": "roam", "country": "UA"}, 400, "invalid", "id")
			e.wantError("operator", "POST", "/v1/terminals", map[string]any{"id": "ut-ok", "account_id": "acct-1", "plan": "roam", "country": "UA", "groups": []string{"g", id}}, 400, "invalid", "groups/1")
			e.wantError("operator", "POST", "/v1/terminals", map[string]any{"id": "ut-ok", "account_id": id, "plan": "roam", "country": "UA"}, 400, "invalid", "account_id")
			e.wantError("operator", "PUT", "/v1/cells/"+url.PathEscape(id), map[string]int{"capacity": 1}, 400, "invalid", "id")
			e.wantError("admin", "POST", "/v1/terminals/import", map[string]any{"reason": "r", "terminals": []map[string]any{{"id": id, "account_id": "acct-1", "plan": "roam", "country": "UA"}}}, 400, "invalid", "terminals/0/id")
		})
	}
	e.t = t
	var page struct{ Terminals []any }
	e.must("viewer", "GET", "/v1/terminals", nil, 200, &page)
	if len(page.Terminals) != 0 {
		t.Errorf("terminals registered: %+v", page.Terminals)
	}
}

// TestFixAnswersAreValidJSON: a fix whose terminal id is not an id gets an
// error of its own, in every form, the batch's other fixes are decided,
// and every answer is valid UTF-8 JSON; a batch id that is not an id
// refuses the batch.
func TestFixAnswersAreValidJSON(t *testing.T) {
	e := newEnv(t)
	e.register("ut-1", "residential", "UA", true)
	e.must("operator", "POST", "/v1/terminals/ut-1/activate", map[string]float64{"lat": 50.45, "lon": 30.52}, 200, nil)
	at := testNow
	next := func() string { at = at.Add(time.Second); return at.Format(time.RFC3339Nano) }
	for name, id := range badIDs {
		t.Run(name, func(t *testing.T) {
			e.t = t
			// JSON: escaped (encoding/json's path), and as raw bytes (the fast path's).
			quoted, _ := json.Marshal(id)
			forms := []string{string(quoted)}
			if !strings.ContainsFunc(id, func(r rune) bool { return r < 0x20 }) {
				forms = append(forms, `"`+id+`"`) // raw bytes: JSON has no raw control characters
			}
			for _, form := range forms {
				body := fmt.Sprintf(`{"fixes":[{"terminal_id":%s,"time":%q,"lat":50.45,"lon":30.52},{"terminal_id":"ut-1","time":%q,"lat":50.45,"lon":30.52}]}`, form, next(), next())
				code, b := e.sendFixes("application/json", []byte(body))
				validAnswer(t, "JSON batch", b, false)
				var out struct{ Results []result }
				if err := json.Unmarshal(b, &out); err != nil || code != 200 || len(out.Results) != 2 {
					t.Fatalf("JSON batch: %d %s", code, b)
				}
				if r := out.Results[0]; r.Error == nil || r.Error.Code != "invalid" || r.Error.Field != "fixes/0/terminal_id" {
					t.Errorf("fix with id %q: %+v, want an error at fixes/0/terminal_id", id, r)
				}
				if r := out.Results[1]; r.Error != nil || !r.Allow {
					t.Errorf("the batch's good fix: %+v", r)
				}
				body = fmt.Sprintf(`{"batch_id":%s,"fixes":[{"terminal_id":"ut-1","time":%q,"lat":50.45,"lon":30.52}]}`, form, next())
				code, b = e.sendFixes("application/json", []byte(body))
				validAnswer(t, "JSON batch id", b, false)
				var ae apiError
				if json.Unmarshal(b, &ae); code != 400 || ae.Error.Field != "batch_id" {
					t.Errorf("batch id %q: %d %s, want 400 at batch_id", id, code, b)
				}
				cell := fmt.Sprintf(`{"fixes":[{"terminal_id":"ut-1","time":%q,"lat":50.45,"lon":30.52,"cell":%s}]}`, next(), form)
				if _, b = e.sendFixes("application/json", []byte(cell)); !bytes.Contains(b, []byte(`"field":"fixes/0/cell"`)) {
					t.Errorf("cell %q: %s, want an error at fixes/0/cell", id, b)
				}
			}
			// NDJSON.
			line := fmt.Sprintf(`{"terminal_id":%s,"time":%q,"lat":50.45,"lon":30.52}`+"\n", quoted, next())
			code, b := e.sendFixes("application/x-ndjson", []byte(line))
			validAnswer(t, "NDJSON", b, true)
			if code != 200 || !bytes.Contains(b, []byte(`"field":"line/1/terminal_id"`)) {
				t.Errorf("NDJSON: %d %s", code, b)
			}
			// The binary form, with the id's bytes as they are.
			var enc fixwire.Encoder
			req := enc.AppendRequest(nil, "", []fixwire.Fix{{TerminalID: id, Time: at.Add(time.Second), Lat: 50.45, Lon: 30.52, SpeedKmh: 0}})
			code, b = e.sendFixes(fixwire.ContentType, req)
			var dec fixwire.Decoder
			_, rs, err := dec.Answer(b, nil)
			if code != 200 || err != nil || len(rs) != 1 || rs[0].Err == nil || rs[0].Err.Field != "fixes/0/terminal_id" {
				t.Fatalf("binary: %d %+v %v", code, rs, err)
			}
			if !utf8.ValidString(rs[0].TerminalID) {
				t.Errorf("binary answer echoes %q, not UTF-8", rs[0].TerminalID)
			}
			code, b = e.sendFixes(fixwire.ContentType, enc.AppendRequest(nil, id, nil))
			validAnswer(t, "binary batch id", b, false)
			if code != 400 || !bytes.Contains(b, []byte(`"field":"batch_id"`)) {
				t.Errorf("binary batch id %q: %d %s", id, code, b)
			}
		})
	}
}

// raw runs SQL on a store's database behind its back, as someone with
// access to the file or the server would; ? are the parameters.
type raw func(t testing.TB, query string, args ...any)

// rawStore opens a fresh store of the kind and a raw connection to it.
func rawStore(t *testing.T, kind string) (skyfence.Store, raw) {
	switch kind {
	case "sqlite":
		path := t.TempDir() + "/skyfence.db"
		store := teststore.SQLite(t, path)
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return store, func(t testing.TB, query string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(context.Background(), query, args...); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
	}
	store, schema := teststore.Postgres(t)
	cfg, err := pgx.ParseConfig(os.Getenv(teststore.EnvPostgres))
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return store, func(t testing.TB, query string, args ...any) {
		t.Helper()
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
		}
		if _, err := conn.Exec(context.Background(), query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
}

// TestStoredBadIDsStayValidJSON: ids that no registration accepts, put in
// the store by raw SQL before the server starts (an older version's data,
// a hand-made migration), still come out as valid JSON in every listing,
// and the server never echoes bytes that are not UTF-8. PostgreSQL holds
// only UTF-8 without NUL, so there the ids are control and invisible
// characters; SQLite holds any bytes.
func TestStoredBadIDsStayValidJSON(t *testing.T) {
	for _, kind := range teststore.Kinds() {
		t.Run(kind, func(t *testing.T) {
			store, exec := rawStore(t, kind)
			ids := []string{"ut\a1", "ut\u200b\u202e2", "ut\"\\3\n", "ut\u2028 4"}
			if kind == "sqlite" {
				ids = append(ids, "ut\xff\xfe5", "ut\x006")
			}
			exec(t, `INSERT INTO accounts (id, name) VALUES (?, ?)`, "acct\x07", "name\x01")
			groups, allow := `{"g`+"\a"+`"}`, any(true)
			if kind == "sqlite" {
				groups, allow = `["g\u0007"]`, 1
			}
			for i, id := range ids {
				var idArg any = id
				if kind == "sqlite" {
					idArg = []byte(id) // a BLOB cast to TEXT keeps bytes that are not UTF-8
				}
				exec(t, `INSERT INTO terminals (id, account_id, plan, country, status, groups) VALUES (CAST(? AS TEXT), ?, 'roam', 'UA', 'active', ?)`, idArg, "acct\x07", groups)
				exec(t, `INSERT INTO terminal_states (terminal_id, fix_time, lat, lon, alt_m, speed_kmh, cell, allow, reason, rule, country, policy, decided_at)
					VALUES (CAST(? AS TEXT), ?, 50.45, 30.52, 0, 0, ?, ?, 'ok', ?, ?, ?, ?)`,
					idArg, testNow.UnixNano()+int64(i), "c\x02", allow, "rule\x03", "U\x04A", "v\x05", testNow.UnixNano())
			}
			e := newEnvOn(t, store)
			for _, path := range []string{"/v1/states", "/v1/terminals", "/v1/terminals?account_id=" + url.QueryEscape("acct\x07")} {
				code, b := e.do("viewer", "GET", path, nil)
				validAnswer(t, path, b, false)
				if code != 200 {
					t.Errorf("GET %s: %d %s", path, code, b)
				}
			}
			var st states
			e.must("viewer", "GET", "/v1/states", nil, 200, &st)
			if st.Count != len(ids) {
				t.Errorf("states: %d terminals, want %d: %+v", st.Count, len(ids), st)
			}
			for _, id := range ids {
				for _, path := range []string{"/v1/terminals/" + url.PathEscape(id), "/v1/terminals/" + url.PathEscape(id) + "/state"} {
					code, b := e.do("viewer", "GET", path, nil)
					validAnswer(t, path, b, false)
					if code != 200 && code != 404 {
						t.Errorf("GET %s: %d %s", path, code, b)
					}
				}
				// A gateway sending the stored id is refused for that fix,
				// in JSON and in the binary form, with valid answers.
				quoted, _ := json.Marshal(id)
				body := fmt.Sprintf(`{"fixes":[{"terminal_id":%s,"time":%q,"lat":50.45,"lon":30.52}]}`, quoted, testNow.Add(time.Minute).Format(time.RFC3339))
				_, b := e.sendFixes("application/json", []byte(body))
				validAnswer(t, "fix of "+string(quoted), b, false)
				var enc fixwire.Encoder
				_, b = e.sendFixes(fixwire.ContentType, enc.AppendRequest(nil, "", []fixwire.Fix{{TerminalID: id, Time: testNow.Add(time.Minute), Lat: 50.45, Lon: 30.52, SpeedKmh: 0}}))
				var dec fixwire.Decoder
				if _, rs, err := dec.Answer(b, nil); err != nil || len(rs) != 1 || rs[0].Err == nil || !utf8.ValidString(rs[0].TerminalID) {
					t.Errorf("binary fix of %q: %+v %v", id, rs, err)
				}
			}
		})
	}
}

package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/atlas"
	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/httpapi"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/sqlite"
	"github.com/skyfence/skyfence/world"
)

var (
	worldOnce sync.Once
	theAtlas  *atlas.Atlas
	theSnap   *policy.Snapshot
)

func scenario(t testing.TB) (*atlas.Atlas, *policy.Snapshot) {
	t.Helper()
	worldOnce.Do(func() {
		d, err := world.Load(world.Res10m)
		if err != nil {
			panic(err)
		}
		if theAtlas, err = atlas.New(d, geoindex.Options{}); err != nil {
			panic(err)
		}
		src, err := policy.Load("../examples/policy/policy.yaml")
		if err != nil {
			panic(err)
		}
		if theSnap, err = policy.Compile(src, theAtlas); err != nil {
			panic(err)
		}
	})
	return theAtlas, theSnap
}

// env is a running API over a fresh SQLite database, with a key per role.
type env struct {
	t    testing.TB
	url  string
	svc  *control.Service
	api  *httpapi.Server
	keys map[string]string // role (or "partner-UA") -> secret
	now  time.Time
}

var testNow = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

func newEnv(t testing.TB) *env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := sqlite.Open(context.Background(), t.TempDir()+"/skyfence.db", log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return newEnvOn(t, store)
}

// newEnvOn is newEnv over store, which the caller closes.
func newEnvOn(t testing.TB, store skyfence.Store) *env {
	t.Helper()
	a, snap := scenario(t)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	e := &env{t: t, keys: map[string]string{}, now: testNow}
	engine, err := detect.New(detect.DefaultConfig(), detect.Options{Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	queue := detect.NewQueue(engine)
	svc, err := control.New(ctx, control.Config{Store: store, Atlas: a, Policy: snap, Logger: log, Now: func() time.Time { return e.now }, Detect: queue})
	if err != nil {
		t.Fatal(err)
	}
	detected := make(chan error, 1)
	go func() { detected <- queue.Run(context.Background(), svc.RecordAlert) }()
	e.svc = svc
	admins, err := svc.Bootstrap(ctx)
	if err != nil || len(admins) != 2 {
		t.Fatalf("bootstrap: %d admin keys, %v", len(admins), err)
	}
	e.keys["admin"], e.keys["admin2"] = admins[0], admins[1]
	e.api = httpapi.New(svc, log, nil)
	srv := httptest.NewServer(e.api)
	e.url = srv.URL
	t.Cleanup(func() {
		srv.Close()
		queue.Close()
		if err := <-detected; err != nil {
			t.Error(err)
		}
		if err := svc.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	for _, r := range skyfence.Roles {
		if r == skyfence.RoleAdmin || r == skyfence.RolePartner {
			continue
		}
		e.keys[string(r)] = e.createKey(string(r), "")
	}
	e.keys["partner-UA"] = e.createKey("partner", "UA")
	e.keys["partner-PL"] = e.createKey("partner", "PL")
	return e
}

// createKey makes a key of role (for a partner: of region and its
// defence ministry, "UA-MOD") held by a person of the key's name; the
// second admin approves the grant of a role in a two-person rule.
func (e *env) createKey(role, region string) string {
	in := map[string]string{"name": role + region, "role": role, "region": region}
	if region != "" {
		in["authority"] = region + "-MOD"
	}
	var out struct {
		Secret string
		Key    skyfence.APIKey
	}
	e.must("admin", "POST", "/v1/keys", in, 201, &out)
	if out.Key.Pending {
		e.must("admin2", "POST", "/v1/keys/"+out.Key.ID+"/approve", map[string]string{"comment": "second admin"}, 200, nil)
	}
	return out.Secret
}

// do sends a request as the holder of key (a role name, "" for none) and
// returns the status and body.
func (e *env) do(key, method, path string, body any) (int, []byte) {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.url+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+e.keys[key])
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (e *env) must(key, method, path string, body any, want int, out any) {
	e.t.Helper()
	code, b := e.do(key, method, path, body)
	if code != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

type apiError struct {
	Error struct{ Code, Message, Field string }
}

func (e *env) wantError(key, method, path string, body any, status int, code, field string) {
	e.t.Helper()
	got, b := e.do(key, method, path, body)
	var ae apiError
	_ = json.Unmarshal(b, &ae)
	if got != status || ae.Error.Code != code || (field != "" && ae.Error.Field != field) {
		e.t.Errorf("%s %s: %d %s field %q (%s), want %d %s field %q", method, path, got, ae.Error.Code, ae.Error.Field, ae.Error.Message, status, code, field)
	}
}

// register creates an account and a terminal, verified by UA-MOD.
func (e *env) register(id, plan, country string, verify bool) {
	e.t.Helper()
	code, _ := e.do("operator", "POST", "/v1/accounts", map[string]string{"id": "acct-" + id})
	if code != 201 && code != 409 {
		e.t.Fatalf("account: %d", code)
	}
	e.must("operator", "POST", "/v1/terminals", map[string]any{"id": id, "account_id": "acct-" + id, "plan": plan, "country": country}, 201, nil)
	if verify {
		e.must("partner-UA", "POST", "/v1/verifications", map[string]any{"terminal_id": id, "region": "UA", "authority": "UA-MOD", "class": "civil"}, 201, nil)
	}
}

type result struct {
	TerminalID string `json:"terminal_id"`
	Allow      bool
	Reason     string
	Rule       string
	Message    string
	Country    string
	Zones      []string
	Error      *struct{ Code, Message, Field string }
}

func (e *env) send(fixes ...map[string]any) []result {
	e.t.Helper()
	var out struct{ Results []result }
	e.must("gateway", "POST", "/v1/fixes", map[string]any{"fixes": fixes}, 200, &out)
	return out.Results
}

func fix(id string, at time.Time, lat, lon float64, speed any) map[string]any {
	f := map[string]any{"terminal_id": id, "time": at.Format(time.RFC3339Nano), "lat": lat, "lon": lon}
	if speed != nil {
		f["speed_kmh"] = speed
	}
	return f
}

func TestNewcomerFlow(t *testing.T) {
	e := newEnv(t)
	e.register("ut-1", "residential", "UA", true)
	var a struct {
		Outcome, Cell, Reason string
	}
	e.must("operator", "POST", "/v1/terminals/ut-1/activate", map[string]float64{"lat": 50.45, "lon": 30.52}, 200, &a)
	if a.Outcome != "activated" {
		t.Fatalf("activation %+v", a)
	}
	rs := e.send(fix("ut-1", testNow, 50.45, 30.52, 0), fix("ut-1", testNow.Add(time.Minute), 48.0, 37.8, 0), fix("ghost", testNow, 0, 0, nil))
	if len(rs) != 3 || !rs[0].Allow || rs[1].Reason != "no_service_zone" || rs[1].Rule != "occupied-no-service" || rs[2].Reason != "unknown_terminal" {
		t.Fatalf("decisions %+v", rs)
	}
	e.must("operator", "POST", "/v1/terminals/ut-1/status", map[string]string{"status": "suspended", "reason": "investigation 7"}, 200, nil)
	rs = e.send(fix("ut-1", testNow.Add(2*time.Minute), 50.45, 30.52, 0))
	if rs[0].Reason != "terminal_suspended" {
		t.Fatalf("after suspension: %+v", rs[0])
	}
	var st skyfence.TerminalState
	e.must("viewer", "GET", "/v1/terminals/ut-1/state", nil, 200, &st)
	if st.Reason != "terminal_suspended" || st.Fix.Lat != 50.45 {
		t.Errorf("state %+v", st)
	}
}

func TestActivationRules(t *testing.T) {
	e := newEnv(t)
	var a struct{ Outcome, Reason, Rule string }
	e.register("tw-1", "residential", "TW", false)
	e.must("operator", "POST", "/v1/terminals/tw-1/activate", map[string]float64{"lat": 25.03, "lon": 121.56}, 202, &a)
	if a.Outcome != "waitlisted" || a.Reason != "region_not_available" || a.Rule != "status:TW" {
		t.Errorf("Taiwan: %+v", a)
	}
	e.register("ru-1", "residential", "DE", false)
	e.must("operator", "POST", "/v1/terminals/ru-1/activate", map[string]float64{"lat": 55.75, "lon": 37.62}, 409, &a)
	if a.Outcome != "refused" || a.Reason != "region_embargoed" || a.Rule != "status:RU" {
		t.Errorf("Moscow: %+v", a)
	}
	e.register("de-1", "residential", "DE", false)
	e.must("operator", "POST", "/v1/terminals/de-1/activate", map[string]float64{"lat": 48.86, "lon": 2.35}, 409, &a)
	if a.Outcome != "refused" || a.Rule != "plan:residential" {
		t.Errorf("residential abroad: %+v", a)
	}
	e.register("de-2", "roam", "DE", false)
	e.must("operator", "POST", "/v1/terminals/de-2/activate", map[string]float64{"lat": 48.86, "lon": 2.35}, 200, &a)
	if a.Outcome != "activated" {
		t.Errorf("roam abroad: %+v", a)
	}
	// A cell with room for two: the third waits, and gets the place freed
	// by a deactivation.
	cell := skyfence.CellOf(52.52, 13.40)
	e.must("operator", "PUT", "/v1/cells/"+cell, map[string]int{"capacity": 2}, 200, nil)
	for i := 1; i <= 3; i++ {
		e.register(fmt.Sprintf("b-%d", i), "residential", "DE", false)
	}
	e.must("operator", "POST", "/v1/terminals/b-1/activate", map[string]float64{"lat": 52.52, "lon": 13.40}, 200, nil)
	e.must("operator", "POST", "/v1/terminals/b-2/activate", map[string]float64{"lat": 52.52, "lon": 13.41}, 200, nil)
	var w struct {
		Outcome  string
		Position int
	}
	e.must("operator", "POST", "/v1/terminals/b-3/activate", map[string]float64{"lat": 52.52, "lon": 13.42}, 202, &w)
	if w.Outcome != "waitlisted" || w.Position != 1 {
		t.Errorf("full cell: %+v", w)
	}
	e.must("operator", "POST", "/v1/terminals/b-1/status", map[string]string{"status": "deactivated", "reason": "cancelled"}, 200, nil)
	var term skyfence.Terminal
	e.must("viewer", "GET", "/v1/terminals/b-3", nil, 200, &term)
	if term.Status != skyfence.Active {
		t.Errorf("waiting terminal after a place was freed: %v", term.Status)
	}
	// The cell is full again: the public map shows it sold out.
	code, b := e.do("", "GET", "/v1/map", nil)
	if code != 200 || !bytes.Contains(b, []byte(`"id":"`+cell+`","properties":{"code":"`+cell+`","kind":"cell"`)) || !bytes.Contains(b, []byte(`"status":"sold_out"`)) {
		t.Errorf("map does not show cell %s sold out (%d)", cell, code)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	e.register("ut-1", "residential", "UA", true)
	e.must("operator", "POST", "/v1/terminals/ut-1/activate", map[string]float64{"lat": 50.45, "lon": 30.52}, 200, nil)
	e.wantError("operator", "POST", "/v1/terminals", `{"id": "x",`, 400, "invalid", "")
	e.wantError("operator", "POST", "/v1/terminals", `{"id": "x", "colour": "red"}`, 400, "invalid", "colour")
	e.wantError("operator", "POST", "/v1/terminals", `{"id": 7}`, 400, "invalid", "id")
	e.wantError("operator", "POST", "/v1/terminals", map[string]any{"id": "x", "account_id": "acct-ut-1", "plan": "gold", "country": "UA"}, 400, "invalid", "plan")
	e.wantError("operator", "POST", "/v1/terminals", map[string]any{"id": "x", "account_id": "acct-ut-1", "plan": "roam", "country": "QQ"}, 400, "invalid", "country")
	e.wantError("operator", "POST", "/v1/terminals/ut-1/activate", map[string]float64{"lat": 95, "lon": 0}, 400, "invalid", "lat")
	e.wantError("operator", "GET", "/v1/terminals?limit=5000", nil, 400, "invalid", "limit")
	e.wantError("operator", "GET", "/v1/terminals/nope", nil, 404, "not_found", "")
	e.wantError("operator", "POST", "/v1/terminals", strings.Repeat(" ", httpapi.MaxBodyBytes+1)+"{}", 413, "too_large", "")
	many := make([]map[string]any, authorizer.MaxBatch+1)
	for i := range many {
		many[i] = fix("ut-1", testNow, 0, 0, 0)
	}
	e.wantError("gateway", "POST", "/v1/fixes", map[string]any{"fixes": many}, 413, "too_large", "fixes")
	// Per-fix errors: the batch is answered, bad fixes refused, good ones applied.
	rs := e.send(
		fix("ut-1", testNow, 50.45, 30.52, 0),
		fix("ut-1", testNow, 50.45, 30.52, 0),                     // duplicate
		fix("ut-1", testNow.Add(-time.Minute), 50.45, 30.52, 0),   // out of order
		fix("ut-1", testNow.Add(time.Minute), 91, 30.52, 0),       // out of range
		map[string]any{"terminal_id": "ut-1", "lat": 1, "lon": 2}, // no time
		fix("ut-1", testNow.Add(2*time.Minute), 50.45, 30.53, 5),
	)
	want := []struct{ code, field string }{{"", ""}, {"conflict", "time"}, {"conflict", "time"}, {"invalid", "fixes/3/lat"}, {"invalid", "fixes/4/time"}, {"", ""}}
	for i, w := range want {
		got := rs[i].Error
		switch {
		case w.code == "" && (got != nil || !rs[i].Allow):
			t.Errorf("fix %d: %+v, want allowed", i, rs[i])
		case w.code != "" && (got == nil || got.Code != w.code || got.Field != w.field):
			t.Errorf("fix %d: %+v, want error %s at %s", i, got, w.code, w.field)
		}
	}
	e.wantError("gateway", "POST", "/v1/fixes", `{"fixes": [{"terminal_id": "ut-1", "time": "2026-06-15T12:00:00Z", "lat": 1, "lon": 2, "altitude": 3}]}`, 400, "invalid", "altitude")
	long := fix("ut-1", testNow.Add(time.Minute), 50.45, 30.52, nil)
	long["cell"] = strings.Repeat("b", authorizer.MaxServingCellLen+1)
	if rs := e.send(long); len(rs) != 1 || rs[0].Error == nil || rs[0].Error.Field != "cell" {
		t.Errorf("a fix with a %d-byte cell: %+v", authorizer.MaxServingCellLen+1, rs)
	}
}

func TestNDJSONStream(t *testing.T) {
	e := newEnv(t)
	e.register("ut-1", "residential", "UA", true)
	e.must("operator", "POST", "/v1/terminals/ut-1/activate", map[string]float64{"lat": 50.45, "lon": 30.52}, 200, nil)
	var b strings.Builder
	for i := 0; i < 2500; i++ {
		j, _ := json.Marshal(fix("ut-1", testNow.Add(time.Duration(i+1)*100*time.Millisecond), 50.45, 30.52, 1))
		b.Write(j)
		b.WriteByte('\n')
		if i == 1200 {
			b.WriteString("{not json}\n")
		}
	}
	req, _ := http.NewRequest("POST", e.url+"/v1/fixes", strings.NewReader(b.String()))
	req.Header.Set("Authorization", "Bearer "+e.keys["gateway"])
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	n, bad := 0, 0
	for dec.More() {
		var r result
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		n++
		if r.Error != nil {
			bad++
			if !strings.HasPrefix(r.Error.Field, "line/1202") {
				t.Errorf("error at %q (%s), want line 1202", r.Error.Field, r.Error.Message)
			}
		} else if !r.Allow {
			t.Errorf("result %d: %+v", n, r)
		}
	}
	if n != 2501 || bad != 1 {
		t.Errorf("%d results, %d errors; want 2501 and 1", n, bad)
	}
}

func TestPublicMap(t *testing.T) {
	e := newEnv(t)
	code, b := e.do("", "GET", "/v1/map", nil)
	if code != 200 {
		t.Fatalf("map: %d", code)
	}
	var fc struct {
		Features []struct {
			ID         string
			Properties map[string]string
		}
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, f := range fc.Features {
		status[f.ID] = f.Properties["status"]
	}
	for code, want := range map[string]string{"UA": "available", "TW": "coming_soon", "RU": "embargoed", "CN": "not_licensed", "NG": "waitlist", "CM": "not_licensed", "BR": "not_licensed", "VA": "not_licensed"} {
		if status[code] != want {
			t.Errorf("map status of %s = %q, want %q", code, status[code], want)
		}
	}
	req, _ := http.NewRequest("GET", e.url+"/v1/map", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tag := resp.Header.Get("ETag")
	req.Header.Set("If-None-Match", tag)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if tag == "" || resp.StatusCode != http.StatusNotModified {
		t.Errorf("ETag %q, conditional GET status %d", tag, resp.StatusCode)
	}
}

func TestSecretsStayOutOfTheStore(t *testing.T) {
	e := newEnv(t)
	code, b := e.do("admin", "GET", "/v1/keys", nil)
	if code != 200 || bytes.Contains(b, []byte("sfk_")) || bytes.Contains(b, []byte("hash")) {
		t.Errorf("key list shows secrets or hashes: %d %s", code, b)
	}
	var k struct{ Key struct{ ID string } }
	e.must("admin", "POST", "/v1/keys", map[string]string{"name": "temp", "role": "viewer"}, 201, &k)
	e.must("admin", "POST", "/v1/keys/"+k.Key.ID+"/revoke", map[string]string{"reason": "test"}, 200, nil)
	e.wantError("", "GET", "/v1/terminals", nil, 401, "unauthorized", "")
}

// TestDetectionSeesIngest: detection runs off the decision path and its
// alerts show in the API. A residential terminal that reports Kyiv and,
// a minute later, Lviv (470 km away) raises impossible_travel.
func TestDetectionSeesIngest(t *testing.T) {
	e := newEnv(t)
	e.register("ut-1", "residential", "UA", true)
	e.must("operator", "POST", "/v1/terminals/ut-1/activate", map[string]float64{"lat": 50.45, "lon": 30.52}, 200, nil)
	e.send(fix("ut-1", testNow.Add(time.Second), 50.45, 30.52, 0), fix("ut-1", testNow.Add(time.Minute), 49.84, 24.03, 0))
	var found bool
	for deadline := time.Now().Add(10 * time.Second); !found && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var out struct {
			Alerts []struct {
				Detector   string
				TerminalID string `json:"terminal_id"`
				Evidence   []any
			}
		}
		e.must("operator", "GET", "/v1/alerts?terminal_id=ut-1", nil, 200, &out)
		for _, a := range out.Alerts {
			found = found || (a.Detector == "impossible_travel" && a.TerminalID == "ut-1" && len(a.Evidence) > 0)
		}
	}
	if !found {
		t.Fatal("no impossible_travel alert with evidence for ut-1")
	}
	e.wantError("gateway", "GET", "/v1/alerts", nil, 403, "forbidden", "")
	e.wantError("operator", "GET", "/v1/alerts?detector=telepathy", nil, 400, "invalid", "detector")
	code, b := e.do("", "GET", "/metrics", nil)
	if code != 200 || !bytes.Contains(b, []byte("skyfence_detect_observations_total")) {
		t.Errorf("metrics: %d", code)
	}
}

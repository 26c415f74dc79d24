package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/fixwire"
	"github.com/skyfence/skyfence/httpapi"
	"github.com/skyfence/skyfence/internal/testkit/teststore"
	"github.com/skyfence/skyfence/postgres"
	"github.com/skyfence/skyfence/sqlite"
)

// limitsNow is where the limits tests' clocks start.
var limitsNow = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

// limitsEnv is a server over a store that can be stopped and started
// again on the same data, as a restart does: the terminals' tracks come
// back from the store. Its clock follows the fixes sent.
type limitsEnv struct {
	t     *testing.T
	url   string
	svc   *control.Service
	keys  map[string]string     // role -> secret
	open  func() skyfence.Store // the same data each time
	mu    sync.Mutex
	clock time.Time
	stop  func()
}

// newLimitsEnv runs a server over a fresh store of the kind (teststore).
func newLimitsEnv(t *testing.T, kind string) *limitsEnv {
	le := &limitsEnv{t: t, keys: map[string]string{}, clock: limitsNow}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	switch kind {
	case "sqlite":
		path := t.TempDir() + "/skyfence.db"
		le.open = func() skyfence.Store {
			db, err := sqlite.Open(ctx, path, log)
			if err != nil {
				t.Fatal(err)
			}
			return db
		}
	case "postgres":
		first, schema := teststore.Postgres(t)
		le.open = func() skyfence.Store {
			if first != nil {
				db := first
				first = nil
				return db
			}
			db, err := postgres.Open(ctx, os.Getenv(teststore.EnvPostgres), log, postgres.WithSchema(schema))
			if err != nil {
				t.Fatal(err)
			}
			return db
		}
	}
	le.start()
	admins, err := le.svc.Bootstrap(ctx)
	if err != nil || len(admins) == 0 {
		t.Fatalf("bootstrap: %d admin keys, %v", len(admins), err)
	}
	le.keys["admin"] = admins[0]
	le.keys["operator"] = le.createKey("operator")
	le.keys["gateway"] = le.createKey("gateway")
	t.Cleanup(func() { le.stop() })
	return le
}

// eachStore runs fn on a fresh server over each kind of store.
func eachStore(t *testing.T, fn func(t *testing.T, le *limitsEnv)) {
	for _, kind := range teststore.Kinds() {
		t.Run(kind, func(t *testing.T) { fn(t, newLimitsEnv(t, kind)) })
	}
}

func (le *limitsEnv) now() time.Time {
	le.mu.Lock()
	defer le.mu.Unlock()
	return le.clock
}

// start runs the service and its API over the store.
func (le *limitsEnv) start() {
	t := le.t
	a, snap := scenario(t)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	store := le.open()
	svc, err := control.New(ctx, control.Config{Store: store, Atlas: a, Policy: snap, Logger: log, Now: le.now})
	if err != nil {
		t.Fatal(err)
	}
	le.svc = svc
	srv := httptest.NewServer(httpapi.New(svc, log, nil))
	le.url = srv.URL
	le.stop = func() {
		srv.Close()
		if err := svc.Close(ctx); err != nil {
			t.Error(err)
		}
		if err := store.Close(); err != nil {
			t.Error(err)
		}
	}
}

// restart stops the server cleanly and starts it again on the same file.
func (le *limitsEnv) restart() {
	le.stop()
	le.start()
}

// request sends body as the holder of the role's key and returns the
// status and the answer.
func (le *limitsEnv) request(role, method, path, contentType string, body []byte) (int, []byte) {
	le.t.Helper()
	req, err := http.NewRequest(method, le.url+path, bytes.NewReader(body))
	if err != nil {
		le.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+le.keys[role])
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		le.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes()
}

// call sends in as JSON, wants the status, and reads the answer into out.
func (le *limitsEnv) call(role, method, path string, in any, want int, out any) {
	le.t.Helper()
	body, err := json.Marshal(in)
	if err != nil {
		le.t.Fatal(err)
	}
	code, b := le.request(role, method, path, "application/json", body)
	if code != want {
		le.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			le.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

func (le *limitsEnv) createKey(role string) string {
	var out struct{ Secret string }
	le.call("admin", "POST", "/v1/keys", map[string]string{"name": role, "role": role}, 201, &out)
	return out.Secret
}

// limitResult is a decision of POST /v1/fixes, as these tests read it.
type limitResult struct {
	TerminalID string `json:"terminal_id"`
	Allow      bool
	Reason     string
	Rule       string
	Error      *struct{ Code, Message, Field string }
}

// limitFix is a fix on the wire; speed nil leaves speed_kmh out.
func limitFix(id string, at time.Time, lat, lon float64, speed any) map[string]any {
	f := map[string]any{"terminal_id": id, "time": at.Format(time.RFC3339Nano), "lat": lat, "lon": lon}
	if speed != nil {
		f["speed_kmh"] = speed
	}
	return f
}

// activate registers an active terminal, activated at (lat, lon).
func (le *limitsEnv) activate(id, plan, country string, lat, lon float64) {
	le.t.Helper()
	le.call("operator", "POST", "/v1/accounts", map[string]string{"id": "acct-" + id}, 201, nil)
	le.call("operator", "POST", "/v1/terminals", map[string]any{"id": id, "account_id": "acct-" + id, "plan": plan, "country": country}, 201, nil)
	le.call("operator", "POST", "/v1/terminals/"+id+"/activate", map[string]float64{"lat": lat, "lon": lon}, 200, nil)
}

// post sends fixes through POST /v1/fixes, in batches of at most 500, with
// the clock at the last fix's time.
func (le *limitsEnv) post(fixes []map[string]any, last time.Time) []limitResult {
	le.t.Helper()
	le.mu.Lock()
	le.clock = last
	le.mu.Unlock()
	var out []limitResult
	for len(fixes) > 0 {
		n := min(len(fixes), 500)
		var res struct{ Results []limitResult }
		le.call("gateway", "POST", "/v1/fixes", map[string]any{"fixes": fixes[:n]}, 200, &res)
		rs := res.Results
		for i, r := range rs {
			if r.Error != nil {
				le.t.Fatalf("fix %v: %+v", fixes[i], *r.Error)
			}
		}
		out = append(out, rs...)
		fixes = fixes[n:]
	}
	return out
}

// daily sends one fix a day at 12:00 UTC at (lat, lon) for n days from
// first, each in its own request, and returns the decisions.
func (le *limitsEnv) daily(id string, first time.Time, n int, lat, lon float64) []limitResult {
	var out []limitResult
	for i := 0; i < n; i++ {
		at := first.AddDate(0, 0, i)
		out = append(out, le.post([]map[string]any{limitFix(id, at, lat, lon, 0)}, at)...)
	}
	return out
}

func verdicts(rs []limitResult) string {
	b := make([]byte, len(rs))
	for i, r := range rs {
		b[i] = '+'
		if !r.Allow {
			b[i] = '-'
		}
	}
	return string(b)
}

// A terminal that stays in coastal waters past five days in a row is denied
// on every later fix, through a restart, until it leaves; back after a day
// ashore it starts a new stay. Before the fix the streak reset the day
// after the first denial: "+++++-+++++-".
func TestHTTPCoastalDaysHoldWhileTheTerminalStays(t *testing.T) {
	eachStore(t, func(t *testing.T, le *limitsEnv) {
		le.activate("ut-fr-coast", "residential", "FR", 45.76, 4.83)
		day1 := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
		rs := le.daily("ut-fr-coast", day1, 9, 43.25, 5.30)
		le.restart()
		rs = append(rs, le.daily("ut-fr-coast", day1.AddDate(0, 0, 9), 3, 43.25, 5.30)...)
		if got, want := verdicts(rs), "+++++-------"; got != want {
			t.Errorf("12 days in coastal waters: %s, want %s (%+v)", got, want, rs)
		}
		for _, r := range rs[5:] {
			if r.Reason != "roaming_limit" || r.Rule != "coastal-waters" {
				t.Errorf("denied by %s %q, want roaming_limit by coastal-waters", r.Reason, r.Rule)
				break
			}
		}
		rs = le.daily("ut-fr-coast", day1.AddDate(0, 0, 12), 1, 45.76, 4.83) // a day ashore in Lyon
		rs = append(rs, le.daily("ut-fr-coast", day1.AddDate(0, 0, 13), 6, 43.25, 5.30)...)
		if got, want := verdicts(rs), "++++++-"; got != want {
			t.Errorf("ashore, then 6 days in coastal waters: %s, want %s", got, want)
		}
	})
}

// A terminal past its 60 days abroad is denied on every later fix, through
// a restart, until it comes home.
func TestHTTPRoamingDaysHoldWhileTheTerminalStays(t *testing.T) {
	eachStore(t, func(t *testing.T, le *limitsEnv) {
		le.activate("ut-fr-roam", "residential", "FR", 45.76, 4.83)
		day1 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		rs := le.daily("ut-fr-roam", day1, 62, 52.52, 13.40) // Berlin
		le.restart()
		rs = append(rs, le.daily("ut-fr-roam", day1.AddDate(0, 0, 70), 1, 52.52, 13.40)...) // after a gap
		rs = append(rs, le.daily("ut-fr-roam", day1.AddDate(0, 0, 71), 1, 45.76, 4.83)...)  // home
		rs = append(rs, le.daily("ut-fr-roam", day1.AddDate(0, 0, 72), 1, 52.52, 13.40)...) // a new trip
		want := ""
		for i := 0; i < 60; i++ {
			want += "+"
		}
		want += "---++"
		if got := verdicts(rs); got != want {
			t.Errorf("days abroad: %s, want %s", got, want)
		}
		if r := rs[61]; r.Reason != "roaming_limit" || r.Rule != "roam-60-days" {
			t.Errorf("day 62: %s by %q, want roaming_limit by roam-60-days", r.Reason, r.Rule)
		}
	})
}

// jitterFix is a fix of a terminal truly at (lat, lon) with north and east
// each off by up to 30 m, no speed reported.
func jitterFix(rng *rand.Rand, id string, at time.Time, lat, lon float64) map[string]any {
	const m = 111195.0 // metres per degree
	dn, de := (rng.Float64()*2-1)*30, (rng.Float64()*2-1)*30
	return limitFix(id, at, lat+dn/m, lon+de/(m*math.Cos(lat*math.Pi/180)), nil)
}

// An honest residential terminal standing at a refugee centre in Warsaw,
// with 30 m of GPS jitter and fixes every 15 s that report no speed, is
// never denied speed_limit (before the fix, 9 of these 3000 fixes were,
// and the walker got service on and off for hours); a terminal on the same plan moving at 12 km/h is denied on every
// fix from at most 18.5 minutes after it starts (docs/POLICY.md), and one
// whose receiver reports 12 km/h at once.
func TestHTTPDerivedSpeedJitterIsNotSpeed(t *testing.T) {
	eachStore(t, func(t *testing.T, le *limitsEnv) {
		const lat, lon = 52.2297, 21.0122
		le.activate("ut-pl-centre", "residential", "PL", lat, lon)
		le.activate("ut-pl-walker", "residential", "PL", lat, lon)
		le.activate("ut-pl-doppler", "residential", "PL", lat, lon)
		rng := rand.New(rand.NewPCG(14, 2026))
		t0 := limitsNow
		var standing, walking []map[string]any
		const n = 3000 // 12.5 hours
		for i := 0; i < n; i++ {
			at := t0.Add(time.Duration(i) * 15 * time.Second)
			standing = append(standing, jitterFix(rng, "ut-pl-centre", at, lat, lon))
			d := 12 / 3.6 * float64(i) * 15 / math.Sqrt2 / 111195
			walking = append(walking, jitterFix(rng, "ut-pl-walker", at, lat+d, lon+d/math.Cos(lat*math.Pi/180)))
		}
		last := t0.Add(n * 15 * time.Second)
		denied := 0
		for i, r := range le.post(standing, last) {
			if !r.Allow {
				denied++
				if denied <= 3 {
					t.Errorf("standing terminal, fix %d: %s by %q", i, r.Reason, r.Rule)
				}
			}
		}
		if denied > 0 {
			t.Errorf("standing terminal denied on %d of %d fixes, want 0", denied, n)
		}
		caughtFrom := 0
		for i, r := range le.post(walking, last) {
			if r.Allow {
				caughtFrom = i + 1
			} else if r.Reason != "speed_limit" || r.Rule != "plan:residential" {
				t.Fatalf("walker, fix %d: %s by %q, want speed_limit by plan:residential", i, r.Reason, r.Rule)
			}
		}
		if after := time.Duration(caughtFrom) * 15 * time.Second; after > 18*time.Minute+30*time.Second {
			t.Errorf("12 km/h walker allowed as late as %v after it started, want denied on every fix from 18m30s", after)
		} else {
			t.Logf("12 km/h walker denied on every fix from %v after it started", after)
		}
		rs := le.post([]map[string]any{limitFix("ut-pl-doppler", t0, lat, lon, 0), limitFix("ut-pl-doppler", t0.Add(15*time.Second), lat, lon, 12)}, last)
		if !rs[0].Allow || rs[1].Allow || rs[1].Reason != "speed_limit" {
			t.Errorf("reported 0 then 12 km/h: %+v", rs)
		}
	})
}

// raw posts body to POST /v1/fixes as the gateway with the Content-Type,
// the clock at at.
func (le *limitsEnv) raw(contentType string, body []byte, at time.Time) (int, []byte) {
	le.t.Helper()
	le.mu.Lock()
	le.clock = at
	le.mu.Unlock()
	return le.request("gateway", "POST", "/v1/fixes", contentType, body)
}

// The ways a terminal, or a gateway acting for it, might try to get its
// service back while it stays past its coastal limit all fail: a fix dated
// back into the stay's allowed days is refused and changes nothing, going
// silent for days does not end the stay, and the NDJSON and binary forms
// of POST /v1/fixes decide as the JSON form does.
func TestHTTPCoastalLimitHasNoWayAround(t *testing.T) {
	eachStore(t, func(t *testing.T, le *limitsEnv) {
		const id = "ut-fr-sly"
		le.activate(id, "residential", "FR", 45.76, 4.83)
		day1 := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
		if got := verdicts(le.daily(id, day1, 6, 43.25, 5.30)); got != "+++++-" {
			t.Fatalf("six days in coastal waters: %s, want +++++-", got)
		}
		wantDenied := func(how string, r limitResult) {
			t.Helper()
			if r.Allow || r.Reason != "roaming_limit" || r.Rule != "coastal-waters" {
				t.Errorf("%s: %+v, want roaming_limit by coastal-waters", how, r)
			}
		}
		// Back-dated into day 2: refused, not decided.
		var out struct{ Results []limitResult }
		le.mu.Lock()
		le.clock = day1.AddDate(0, 0, 6)
		le.mu.Unlock()
		le.call("gateway", "POST", "/v1/fixes", map[string]any{"fixes": []map[string]any{limitFix(id, day1.AddDate(0, 0, 1), 43.25, 5.30, 0)}}, 200, &out)
		if r := out.Results[0]; r.Error == nil || r.Error.Code != "conflict" {
			t.Errorf("a fix dated back to day 2: %+v, want a conflict error", r)
		}
		wantDenied("day 7, after the back-dated fix", le.daily(id, day1.AddDate(0, 0, 6), 1, 43.25, 5.30)[0])
		// Silent for two days, then NDJSON.
		at := day1.AddDate(0, 0, 9)
		line, _ := json.Marshal(limitFix(id, at, 43.25, 5.30, 0))
		code, body := le.raw("application/x-ndjson", append(line, '\n'), at)
		var r limitResult
		if sc := bufio.NewScanner(bytes.NewReader(body)); code != 200 || !sc.Scan() || json.Unmarshal(sc.Bytes(), &r) != nil {
			t.Fatalf("NDJSON: %d %s", code, body)
		}
		wantDenied("day 10 after two silent days, as NDJSON", r)
		// The binary form.
		at = at.AddDate(0, 0, 1)
		req := new(fixwire.Encoder).AppendRequest(nil, "", []fixwire.Fix{{TerminalID: id, Time: at, Lat: 43.25, Lon: 5.30, SpeedKmh: 0}})
		code, body = le.raw(fixwire.ContentType, req, at)
		_, results, err := new(fixwire.Decoder).Answer(body, nil)
		if code != 200 || err != nil || len(results) != 1 {
			t.Fatalf("binary: %d %v %q", code, err, body)
		}
		wantDenied("day 11, binary", limitResult{Allow: results[0].Allow, Reason: results[0].Reason, Rule: results[0].Rule})
	})
}

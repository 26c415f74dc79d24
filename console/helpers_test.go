package console_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/atlas"
	"github.com/skyfence/skyfence/authorizer"
	"github.com/skyfence/skyfence/bus"
	"github.com/skyfence/skyfence/console"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/geoindex"
	"github.com/skyfence/skyfence/httpapi"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/sqlite"
	"github.com/skyfence/skyfence/world"
)

// chromium is Debian's build, which .ci/run installs.
const chromium = "/usr/bin/chromium"

var (
	worldOnce sync.Once
	theAtlas  *atlas.Atlas
	theSnap   *policy.Snapshot
)

func scenario() (*atlas.Atlas, *policy.Snapshot) {
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

// server is a real skyfence over a fresh SQLite database, as serve builds
// it: the API with the console mounted, and an in-process bus.
type server struct {
	t     *testing.T
	url   string
	svc   *control.Service
	admin string
	// admin2 is the second admin, another person: it approves the grants
	// admin makes.
	admin2 string
}

func newServer(t testing.TB) *server {
	t.Helper()
	return newServerWith(t, skyfence.ChangeRules{})
}

// newServerWith is newServer with these governance rules.
func newServerWith(t testing.TB, rules skyfence.ChangeRules) *server {
	t.Helper()
	a, snap := scenario()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "skyfence.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := control.New(ctx, control.Config{Store: store, Atlas: a, Policy: snap, Logger: log, Bus: bus.NewLocal(), Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	admins, err := svc.Bootstrap(ctx)
	if err != nil || len(admins) != 2 {
		t.Fatalf("bootstrap: %d admin keys, %v", len(admins), err)
	}
	api := httpapi.New(svc, log, nil)
	console.Mount(api.Mount)
	srv := httptest.NewUnstartedServer(api)
	srv.Config.RegisterOnShutdown(api.CloseStreams)
	srv.Start()
	t.Cleanup(func() {
		api.CloseStreams()
		srv.Close()
		if err := svc.Close(ctx); err != nil {
			t.Error(err)
		}
		store.Close()
	})
	return &server{url: srv.URL, svc: svc, admin: admins[0], admin2: admins[1]}
}

// call sends a JSON request with key and decodes the answer into out (if
// not nil); a status other than want fails the test.
func (s *server) call(t testing.TB, key, method, path string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// key makes an API key for a person with a role and returns its secret.
func (s *server) key(t testing.TB, person, role string) string {
	t.Helper()
	var out struct {
		Secret string
		Key    skyfence.APIKey
	}
	s.call(t, s.admin, "POST", "/v1/keys", map[string]string{"name": person, "person": person, "role": role}, 201, &out)
	if out.Key.Pending { // a role in a two-person rule: the second admin approves the grant
		s.call(t, s.admin2, "POST", "/v1/keys/"+out.Key.ID+"/approve", map[string]string{"comment": "test"}, 200, nil)
	}
	return out.Secret
}

// terminal registers and activates a terminal at lat, lon.
func (s *server) terminal(t testing.TB, id, plan, country string, lat, lon float64) {
	t.Helper()
	s.call(t, s.admin, "POST", "/v1/accounts", map[string]string{"id": "acct-" + id, "name": "Account of " + id}, 201, nil)
	s.call(t, s.admin, "POST", "/v1/terminals", map[string]string{"id": id, "account_id": "acct-" + id, "plan": plan, "country": country}, 201, nil)
	s.call(t, s.admin, "POST", "/v1/terminals/"+id+"/activate", map[string]float64{"lat": lat, "lon": lon}, 200, nil)
}

// fleet registers n active terminals f0, f1, … of one account, and sends
// each a first fix at the place at(i) gives, straight to the service (as
// fast as a fleet of thousands can be made).
func (s *server) fleet(t testing.TB, n int, at func(i int) (lat, lon float64)) {
	t.Helper()
	ctx := control.WithPrincipal(context.Background(), control.System)
	s.call(t, s.admin, "POST", "/v1/accounts", map[string]string{"id": "fleet", "name": "a fleet"}, 201, nil)
	ts := make([]*skyfence.Terminal, n)
	fixes := make([]skyfence.Fix, n)
	when := now()
	for i := range ts {
		id := "f" + strconv.Itoa(i)
		ts[i] = &skyfence.Terminal{ID: id, AccountID: "fleet", Plan: "roam", Country: "DE", Status: skyfence.Active}
		lat, lon := at(i)
		fixes[i] = skyfence.Fix{TerminalID: id, Time: when, Lat: lat, Lon: lon}
	}
	if n > 0 {
		if err := s.svc.ImportTerminals(ctx, ts, "test fleet"); err != nil {
			t.Fatal(err)
		}
	}
	out := make([]authorizer.Result, authorizer.MaxBatch)
	for i := 0; i < n; i += authorizer.MaxBatch {
		if err := s.svc.Authorizer().Ingest(fixes[i:min(i+authorizer.MaxBatch, n)], out); err != nil {
			t.Fatal(err)
		}
	}
}

// browser is headless chromium driven by web/test/driver.mjs.
type browser struct {
	t   testing.TB
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
	n   int
}

// newBrowser starts chromium, or skips the test when chromium, node or
// playwright-core are missing and SKYFENCE_REQUIRE_BROWSER is unset (CI
// sets it, so there a missing browser fails the test).
func newBrowser(t testing.TB, width, height int) *browser {
	t.Helper()
	var missing []string
	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, chromium+" (apt-get install chromium)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "node (apt-get install nodejs npm)")
	}
	if _, err := os.Stat("../web/node_modules/playwright-core"); err != nil {
		missing = append(missing, "playwright-core (cd web && npm ci)")
	}
	skipWithout(t, missing)
	cmd := exec.Command(node, "test/driver.mjs")
	cmd.Dir = "../web"
	cmd.Stderr = logWriter{t}
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, cmd: cmd, in: in, out: bufio.NewReader(out)}
	t.Cleanup(func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("browser driver: %v", err)
		}
	})
	b.do("launch", map[string]any{"executablePath": chromium, "userDataDir": t.TempDir(), "width": width, "height": height})
	return b
}

// skipWithout skips the test if anything is missing, or fails it when
// SKYFENCE_REQUIRE_BROWSER is set.
func skipWithout(t testing.TB, missing []string) {
	t.Helper()
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("the browser tests need %v", missing)
	if os.Getenv("SKYFENCE_REQUIRE_BROWSER") != "" {
		t.Fatal(msg + "; SKYFENCE_REQUIRE_BROWSER is set")
	}
	t.Skip(msg + "; set SKYFENCE_REQUIRE_BROWSER=1 to fail instead")
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Logf("browser: %s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

// try sends one command and returns its value, or the driver's error.
func (b *browser) try(op string, args map[string]any) (json.RawMessage, error) {
	b.t.Helper()
	b.n++
	cmd := map[string]any{"id": b.n, "op": op}
	for k, v := range args {
		cmd[k] = v
	}
	line, _ := json.Marshal(cmd)
	if _, err := b.in.Write(append(line, '\n')); err != nil {
		b.t.Fatalf("browser %s: %v", op, err)
	}
	reply, err := b.out.ReadBytes('\n')
	if err != nil {
		b.t.Fatalf("browser %s: %v", op, err)
	}
	var r struct {
		ID    int
		OK    bool
		Value json.RawMessage
		Error string
	}
	if err := json.Unmarshal(reply, &r); err != nil || r.ID != b.n {
		b.t.Fatalf("browser %s: bad reply %q (%v)", op, reply, err)
	}
	if !r.OK {
		return nil, fmt.Errorf("browser %s %v: %s", op, args, r.Error)
	}
	return r.Value, nil
}

// do is try that fails the test on an error.
func (b *browser) do(op string, args map[string]any) json.RawMessage {
	b.t.Helper()
	v, err := b.try(op, args)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// waitFor waits until the JavaScript expression js is true in the page.
// The bound is a failsafe for a page that never gets there, not a
// measure: software rendering on a loaded machine is slow.
func (b *browser) waitFor(js string) {
	b.t.Helper()
	if _, err := b.try("waitFor", map[string]any{"js": js, "timeout": 60000}); err != nil {
		b.shot("failure")
		b.t.Fatal(err)
	}
}

// eval evaluates js in the page and decodes its value into out.
func (b *browser) eval(js string, out any) {
	b.t.Helper()
	if err := json.Unmarshal(b.do("eval", map[string]any{"js": js}), out); err != nil {
		b.t.Fatalf("eval %s: %v", js, err)
	}
}

func (b *browser) text(selector string) string {
	b.t.Helper()
	var s string
	_ = json.Unmarshal(b.do("text", map[string]any{"selector": selector}), &s)
	return s
}

// screenshot returns the page as an image.
func (b *browser) screenshot() image.Image {
	b.t.Helper()
	var s string
	_ = json.Unmarshal(b.do("screenshot", nil), &s)
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b.t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		b.t.Fatal(err)
	}
	return img
}

// shot saves a screenshot as name.png in $SKYFENCE_SCREENSHOTS, if set
// (the README's pictures are made this way).
func (b *browser) shot(name string) {
	dir := os.Getenv("SKYFENCE_SCREENSHOTS")
	if dir == "" {
		return
	}
	path, _ := filepath.Abs(filepath.Join(dir, name+".png"))
	if _, err := b.try("screenshot", map[string]any{"path": path}); err != nil {
		b.t.Log(err)
	}
}

// login opens the console in a fresh page and logs in with key.
func (b *browser) login(base, key, hash string) {
	b.t.Helper()
	b.do("newPage", nil)
	b.do("goto", map[string]any{"url": base + "/console/" + hash})
	b.waitFor(`document.body.dataset.view === 'login'`)
	b.do("fill", map[string]any{"selector": "#key", "value": key})
	b.do("press", map[string]any{"selector": "#key", "key": "Enter"})
	b.waitFor(`document.body.dataset.ready === '1'`)
}

// mapFeature is a feature the console's map got for its terminals
// (featureJS makes it in the page): a cluster of Count terminals, Denied
// of them denied, that opens at zoom Expand; or a terminal alone (Count
// 0), allowed or not; or a cell of the heat layer with Denied terminals.
type mapFeature struct {
	Lon, Lat      float64
	Count, Denied int
	Expand        float64
	Allow         bool
}

const featureJS = `(f) => ({Lon: f.geometry.coordinates[0], Lat: f.geometry.coordinates[1],
	Count: f.properties.point_count || 0, Denied: f.properties.denied || 0, Expand: f.properties.expand || 0, Allow: !!f.properties.allow})`

// settled is true in the page once the map stands still and has loaded
// what it was given.
const settled = `!skyfenceMap.isMoving() && skyfenceMap.loaded()`

func (f mapFeature) near(lon, lat, deg float64) bool {
	return math.Abs(f.Lon-lon) <= deg && math.Abs(f.Lat-lat) <= deg
}

// mapFeatures waits for the map to settle and returns the features it
// holds in source.
func (b *browser) mapFeatures(source string) []mapFeature {
	b.t.Helper()
	b.waitFor(settled)
	var fs []mapFeature
	b.eval(`skyfenceMap.getSource('`+source+`').getData().then((d) => d.features.map(`+featureJS+`))`, &fs)
	return fs
}

// clusterAt is the biggest cluster on screen within 3 degrees of lon,
// lat that a click there would hit (no terminal drawn over it), with its
// place on the page and the zoom the map is at; nil if there is none.
func (b *browser) clusterAt(lon, lat float64) *clusterHit {
	b.t.Helper()
	b.waitFor(settled)
	var c *clusterHit
	b.eval(fmt.Sprintf(`skyfenceMap.getSource('terminals').getData().then((d) => {
		const r = skyfenceMap.getContainer().getBoundingClientRect();
		const hits = d.features.filter((f) => f.properties.point_count
			&& Math.abs(f.geometry.coordinates[0] - %g) <= 3 && Math.abs(f.geometry.coordinates[1] - %g) <= 3).map((f) => {
			const p = skyfenceMap.project(f.geometry.coordinates);
			const top = skyfenceMap.queryRenderedFeatures(p, {layers: ['terminal', 'clusters']})[0];
			return {f, p, ok: top && top.layer.id === 'clusters' && p.x > 20 && p.y > 20 && p.x < r.width - 60 && p.y < r.height - 20};
		}).filter((h) => h.ok).sort((a, z) => z.f.properties.point_count - a.f.properties.point_count);
		if (!hits.length) return null;
		const {f, p} = hits[0];
		return {X: p.x + r.left, Y: p.y + r.top, Lon: f.geometry.coordinates[0], Lat: f.geometry.coordinates[1],
			Count: f.properties.point_count, Expand: f.properties.expand, Zoom: skyfenceMap.getZoom()};
	})`, lon, lat), &c)
	return c
}

type clusterHit struct {
	X, Y, Lon, Lat float64
	Count          int
	Expand, Zoom   float64
}

// now is the time for fixes: the server's clock refuses fixes from its
// future.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

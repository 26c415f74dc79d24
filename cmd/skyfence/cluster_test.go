package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/internal/testkit/testnats"
	"github.com/skyfence/skyfence/internal/testkit/teststore"
)

// The tests of this file run skyfence as an operator would: the binary,
// built once, started as separate processes of one cluster on a database
// of their own and a NATS server, stopped and killed by the test.

// binary builds the skyfence binary into a directory of the test's (the
// build cache makes every build after the first a link).
func binary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "skyfence")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var databases atomic.Int64

// freshDatabase creates an empty database on the test server, dropped at
// the test's cleanup, and returns its URL. It skips the test without
// SKYFENCE_TEST_POSTGRES_URL.
func freshDatabase(t *testing.T) string {
	t.Helper()
	base := os.Getenv(teststore.EnvPostgres)
	if base == "" {
		t.Skipf("%s is not set (CI sets it)", teststore.EnvPostgres)
	}
	name := fmt.Sprintf("skyfence_cluster_%d_%d_%d", os.Getpid(), time.Now().UnixNano(), databases.Add(1))
	exec := func(sql string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Errorf("%s: %v", sql, err)
		}
	}
	exec("CREATE DATABASE " + name)
	t.Cleanup(func() { exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// authorizer is one skyfence serve --mode cluster process.
type authorizer struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
	key  string // the admin key, if this process created it
	key2 string // the second admin's, who approves key's grants
	log  string // its standard error
	done chan struct{}
}

// clusterEnv is what the authorizers of a test share.
type clusterEnv struct {
	bin, db, nats, namespace, data string
	extra                          []string // more flags for every authorizer
}

func newCluster(t *testing.T, natsURL string) *clusterEnv {
	db := freshDatabase(t)
	return &clusterEnv{bin: binary(t), db: db, nats: natsURL, namespace: testnats.Namespace(t, natsURL), data: t.TempDir()}
}

// start starts an authorizer named name on database db (the cluster's,
// unless another URL is given) and waits until it serves.
func (c *clusterEnv) start(t *testing.T, name string, db string) *authorizer {
	t.Helper()
	if db == "" {
		db = c.db
	}
	args := append([]string{"serve", "--mode", "cluster", "--addr", "127.0.0.1:0", "--node", name,
		"--data", c.data, "--store", "postgres", "--postgres-url", db,
		"--nats-url", c.nats, "--nats-namespace", c.namespace, "--detect=false", "--log-level", "info"}, c.extra...)
	a, out := c.launch(t, name, args...)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if _, rest, ok := strings.Cut(line, "serving on "); ok {
			a.base = strings.Fields(rest)[0]
		}
		if _, rest, ok := strings.Cut(line, "SKYFENCE_KEY="); ok {
			a.key = strings.TrimSpace(rest)
		}
		if _, rest, ok := strings.Cut(line, "SKYFENCE_KEY2="); ok {
			a.key2 = strings.TrimSpace(rest)
		}
		if strings.Contains(line, "Transparency report:") {
			break
		}
	}
	go io.Copy(io.Discard, out)
	if a.base == "" {
		a.stop(syscall.SIGKILL)
		b, _ := os.ReadFile(a.log)
		t.Fatalf("authorizer %s did not start:\n%s", name, b)
	}
	return a
}

// launch starts the skyfence binary with args as process name, its
// standard error in <data>/<name>.log (shown if the test fails), stopped
// at the test's end; it returns the process and its standard output.
func (c *clusterEnv) launch(t *testing.T, name string, args ...string) (*authorizer, io.ReadCloser) {
	t.Helper()
	a := &authorizer{t: t, name: name, log: filepath.Join(c.data, name+".log"), done: make(chan struct{})}
	stderr, err := os.Create(a.log)
	if err != nil {
		t.Fatal(err)
	}
	a.cmd = exec.Command(c.bin, args...)
	a.cmd.Stderr = stderr
	out, err := a.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.cmd.Wait(); stderr.Close(); close(a.done) }()
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(a.log)
			t.Logf("%s's log:\n%s", name, b)
		}
	})
	t.Cleanup(func() { a.stop(syscall.SIGTERM) })
	return a, out
}

// stop sends sig and waits for the process to end.
func (a *authorizer) stop(sig syscall.Signal) {
	select {
	case <-a.done:
		return
	default:
	}
	a.cmd.Process.Signal(sig)
	select {
	case <-a.done:
	case <-time.After(30 * time.Second):
		a.cmd.Process.Kill()
		<-a.done
	}
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// call sends a JSON request with a key and returns the status and body.
func (a *authorizer) call(method, path, key, body string) (int, string) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// must is call, failing the test unless the answer is 2xx.
func (a *authorizer) must(method, path, key, body string) string {
	a.t.Helper()
	code, b := a.call(method, path, key, body)
	if code < 200 || code > 299 {
		a.t.Fatalf("%s %s %s: %d %s", a.name, method, path, code, b)
	}
	return b
}

// decide sends one fix of terminal id at lat, lon, now, and returns the
// decision's JSON.
func (a *authorizer) decide(gateway, id string, lat, lon float64) string {
	a.t.Helper()
	at := time.Now().UTC().Format(time.RFC3339Nano)
	return a.must("POST", "/v1/fixes", gateway, fmt.Sprintf(`{"fixes":[{"terminal_id":%q,"time":%q,"lat":%v,"lon":%v}]}`, id, at, lat, lon))
}

// metric returns the value of a line of the authorizer's metrics.
func (a *authorizer) metric(line string) string {
	a.t.Helper()
	for l := range strings.SplitSeq(a.must("GET", "/metrics", "", ""), "\n") {
		if v, ok := strings.CutPrefix(l, line+" "); ok {
			return v
		}
	}
	return ""
}

// secret creates a key with role and returns its secret; the second admin
// approves the grant of a role in a two-person rule.
func (a *authorizer) secret(admin, name, role string) string {
	a.t.Helper()
	var k struct {
		Secret string
		Key    skyfence.APIKey
	}
	if err := json.Unmarshal([]byte(a.must("POST", "/v1/keys", admin, fmt.Sprintf(`{"name":%q,"role":%q}`, name, role))), &k); err != nil || k.Secret == "" {
		a.t.Fatalf("key %s: %v", name, err)
	}
	if k.Key.Pending {
		a.must("POST", "/v1/keys/"+k.Key.ID+"/approve", a.key2, `{"comment":"second admin"}`)
	}
	return k.Secret
}

// until polls cond every 2 ms and returns how long it took to hold,
// failing the test after a generous deadline (a bound on a hang, not a
// measure).
func until(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("%s: not after %v", what, time.Since(start))
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

// reach polls every authorizer of as in turn until cond holds for each,
// and returns, per authorizer, how long after start it first held.
func reach(t *testing.T, start time.Time, as []*authorizer, cond func(*authorizer) bool) map[string]time.Duration {
	t.Helper()
	got := map[string]time.Duration{}
	until(t, "every authorizer", func() bool {
		for _, a := range as {
			if _, ok := got[a.name]; !ok && cond(a) {
				got[a.name] = time.Since(start)
			}
		}
		return len(got) == len(as)
	})
	return got
}

// Berlin, where the example policy gives service.
const berlinLat, berlinLon = 52.52, 13.40

// setUp registers account a1 and active terminals ids in Berlin through a,
// and returns a gateway key.
func setUp(t *testing.T, a *authorizer, ids ...string) string {
	t.Helper()
	a.must("POST", "/v1/accounts", a.key, `{"id":"a1","name":"A"}`)
	for _, id := range ids {
		a.must("POST", "/v1/terminals", a.key, fmt.Sprintf(`{"id":%q,"account_id":"a1","plan":"roam","country":"DE"}`, id))
		a.must("POST", "/v1/terminals/"+id+"/activate", a.key, fmt.Sprintf(`{"lat":%v,"lon":%v}`, berlinLat, berlinLon))
	}
	return a.secret(a.key, "gateway", "gateway")
}

func allowed(decision string) bool { return strings.Contains(decision, `"allow":true`) }

// natsURL is the machine's NATS server if the environment names one, else
// an embedded server of the test's.
func natsURL(t *testing.T) string {
	if u := os.Getenv(testnats.EnvURL); u != "" {
		return u
	}
	return testnats.Start(t).URL()
}

// A suspension made through one authorizer of three, a policy activation
// and a key revocation reach the other two: their decisions change, and
// they refuse the key. The time each took is logged (the issue asks for
// under 1 s).
func TestClusterPropagation(t *testing.T) {
	c := newCluster(t, natsURL(t))
	a1 := c.start(t, "a1", "")
	if a1.key == "" {
		t.Fatal("the first authorizer printed no admin key")
	}
	a2, a3 := c.start(t, "a2", ""), c.start(t, "a3", "")
	gw := setUp(t, a1, "t1", "t2")
	others := []*authorizer{a2, a3}
	for _, a := range others {
		until(t, a.name+" sees the new terminals", func() bool {
			return allowed(a.decide(gw, "t1", berlinLat, berlinLon)) && allowed(a.decide(gw, "t2", berlinLat, berlinLon))
		})
	}

	start := time.Now()
	a1.must("POST", "/v1/terminals/t1/status", a1.key, `{"status":"suspended","reason":"case 42"}`)
	acked := time.Since(start)
	for name, d := range reach(t, start, others, func(a *authorizer) bool {
		return strings.Contains(a.decide(gw, "t1", berlinLat, berlinLon), `"reason":"terminal_suspended"`)
	}) {
		t.Logf("suspension: acknowledged by a1 in %v; %s denied the terminal %v after the request was sent", acked, name, d)
	}

	start, acked = activateEmbargo(t, a1)
	for name, d := range reach(t, start, others, func(a *authorizer) bool { return !allowed(a.decide(gw, "t2", berlinLat, berlinLon)) }) {
		t.Logf("policy activation: acknowledged by a1 in %v; %s denied under it %v after the request was sent", acked, name, d)
	}

	// A gateway key the others have just verified (and cached), revoked
	// through a1: the others refuse it.
	var k struct {
		Key    struct{ ID string }
		Secret string
	}
	if err := json.Unmarshal([]byte(a1.must("POST", "/v1/keys", a1.key, `{"name":"gateway 2","role":"gateway"}`)), &k); err != nil {
		t.Fatal(err)
	}
	for _, a := range others {
		a.decide(k.Secret, "t1", berlinLat, berlinLon)
	}
	start = time.Now()
	a1.must("POST", "/v1/keys/"+k.Key.ID+"/revoke", a1.key, `{"reason":"left on a laptop"}`)
	acked = time.Since(start)
	for name, d := range reach(t, start, others, func(a *authorizer) bool {
		code, _ := a.call("GET", "/v1/me", k.Secret, "")
		return code == http.StatusUnauthorized
	}) {
		t.Logf("key revocation: acknowledged by a1 in %v; %s refused the key %v after the request was sent", acked, name, d)
	}
	if v := a2.metric(`skyfence_cluster_events_total{what="apply_failed"}`); v != "0" {
		t.Errorf("a2 failed to apply %s events", v)
	}
}

// NATS goes away: every authorizer keeps deciding; a suspension made
// meanwhile waits in its authorizer's spool and reaches the others when
// NATS is back.
func TestClusterNATSOutage(t *testing.T) {
	srv := testnats.Start(t)
	c := newCluster(t, srv.URL())
	a1 := c.start(t, "a1", "")
	a2 := c.start(t, "a2", "")
	gw := setUp(t, a1, "t1")
	until(t, "a2 sees t1", func() bool { return allowed(a2.decide(gw, "t1", berlinLat, berlinLon)) })

	srv.Stop()
	until(t, "a1 notices", func() bool { return a1.metric("skyfence_cluster_nats_connected") == "0" })
	a1.must("POST", "/v1/terminals/t1/status", a1.key, `{"status":"suspended","reason":"case 42"}`)
	until(t, "the event is spooled", func() bool { return a1.metric("skyfence_cluster_spool_bytes") != "0" })
	if d := a1.decide(gw, "t1", berlinLat, berlinLon); !strings.Contains(d, "terminal_suspended") {
		t.Errorf("a1 during the outage: %s", d)
	}
	if d := a2.decide(gw, "t1", berlinLat, berlinLon); !allowed(d) {
		t.Errorf("a2 during the outage, with the record it had: %s", d)
	}

	srv.Start()
	d := until(t, "a2 applies the replayed suspension", func() bool {
		return strings.Contains(a2.decide(gw, "t1", berlinLat, berlinLon), "terminal_suspended")
	})
	t.Logf("a2 denied t1 %v after NATS came back", d)
	// a1 counts a replayed event once NATS acknowledged it, which may be
	// after a2 got it.
	until(t, "a1 counts the replayed event", func() bool {
		v := a1.metric(`skyfence_cluster_events_total{what="replayed"}`)
		return v != "0" && v != ""
	})
	if v := a1.metric(`skyfence_cluster_events_total{what="overflow"}`); v != "0" {
		t.Errorf("overflow: %q", v)
	}
}

// proxy forwards TCP connections to a server until stopped: the test's
// own way of making PostgreSQL unreachable for one authorizer.
type proxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target, addr: "127.0.0.1:0"}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) start() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

// stop refuses new connections and cuts those open.
func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// PostgreSQL goes away for one authorizer: it keeps deciding, a write
// fails at once with 503 "unavailable", and when the database is back
// writes work again without a restart.
func TestClusterPostgresUnreachable(t *testing.T) {
	c := newCluster(t, natsURL(t))
	u, err := url.Parse(c.db)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.addr
	a1 := c.start(t, "a1", u.String())
	gw := setUp(t, a1, "t1", "t2")
	// A key is verified with the store once, then trusted from memory
	// while the store is away.
	if d := a1.decide(gw, "t1", berlinLat, berlinLon); !allowed(d) {
		t.Fatalf("decision: %s", d)
	}

	p.stop()
	for range 3 {
		if d := a1.decide(gw, "t1", berlinLat, berlinLon); !allowed(d) {
			t.Fatalf("decision with PostgreSQL away: %s", d)
		}
	}
	start := time.Now()
	code, body := a1.call("POST", "/v1/terminals/t2/status", a1.key, `{"status":"suspended","reason":"case 43"}`)
	took := time.Since(start)
	t.Logf("a write with PostgreSQL away: %d in %v: %s", code, took, body)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"unavailable"`) {
		t.Fatalf("write with PostgreSQL away: %d %s", code, body)
	}

	p.start()
	until(t, "writes work again", func() bool {
		code, _ := a1.call("POST", "/v1/terminals/t2/status", a1.key, `{"status":"suspended","reason":"case 43"}`)
		return code == http.StatusOK
	})
	if d := a1.decide(gw, "t2", berlinLat, berlinLon); !strings.Contains(d, "terminal_suspended") {
		t.Errorf("t2 after the suspension: %s", d)
	}
}

// An authorizer killed with SIGKILL in the middle of a stream of writes
// loses none it acknowledged: after it, every acknowledged status change is
// in the store, as another authorizer reads it, and the audit chain
// verifies.
func TestClusterKillLosesNothingAcknowledged(t *testing.T) {
	c := newCluster(t, natsURL(t))
	a1 := c.start(t, "a1", "")
	a2 := c.start(t, "a2", "")
	a1.must("POST", "/v1/accounts", a1.key, `{"id":"a1","name":"A"}`)
	viewer := a1.secret(a1.key, "viewer", "viewer")

	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	var stop atomic.Bool
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				id := fmt.Sprintf("w%d-%d", w, i)
				if code, _ := a1.call("POST", "/v1/terminals", a1.key, fmt.Sprintf(`{"id":%q,"account_id":"a1","plan":"roam","country":"DE"}`, id)); code != http.StatusCreated {
					return
				}
				code, _ := a1.call("POST", "/v1/terminals/"+id+"/activate", a1.key, fmt.Sprintf(`{"lat":%v,"lon":%v}`, berlinLat, berlinLon))
				if code != http.StatusOK {
					return
				}
				code, _ = a1.call("POST", "/v1/terminals/"+id+"/status", a1.key, `{"status":"suspended","reason":"kill test"}`)
				if code != http.StatusOK {
					return
				}
				mu.Lock()
				acked[id] = true
				mu.Unlock()
			}
		})
	}
	until(t, "writes under way", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 20 })
	a1.stop(syscall.SIGKILL)
	stop.Store(true)
	wg.Wait()
	t.Logf("%d suspensions acknowledged before the kill", len(acked))

	for id := range acked {
		b := a2.must("GET", "/v1/terminals/"+id, viewer, "")
		if !strings.Contains(b, `"status":"suspended"`) {
			t.Errorf("%s after the kill: %s", id, b)
		}
	}
	var out strings.Builder
	cmd := exec.Command(c.bin, "audit", "verify", "--store", "postgres", "--postgres-url", c.db)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || !strings.Contains(out.String(), "result:      ok") {
		t.Errorf("audit verify after the kill: %v\n%s", err, out.String())
	}
}

// Of two authorizers exactly one leads the scheduled work, as /metrics
// says. When its leader connection is terminated the other takes over, and
// when that one is SIGKILLed the first leads again.
func TestClusterLeader(t *testing.T) {
	c := newCluster(t, natsURL(t))
	as := []*authorizer{c.start(t, "a1", ""), c.start(t, "a2", "")}
	leads := func(a *authorizer) bool { return a.metric("skyfence_cluster_leader") == "1" }
	leader := -1
	until(t, "one leader", func() bool {
		for i, a := range as {
			if leads(a) {
				leader = i
			}
		}
		return leader >= 0
	})
	first, second := as[leader], as[1-leader]
	if leads(second) {
		t.Fatal("both authorizers lead")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1`, "skyfence leader "+first.name).Scan(&n); err != nil || n != 1 {
		t.Fatalf("terminating %s's leader connection: %d sessions, %v", first.name, n, err)
	}
	d := until(t, second.name+" taking over", func() bool { return leads(second) && !leads(first) })
	t.Logf("%s led %v after %s's leader connection was terminated", second.name, d.Round(time.Millisecond), first.name)

	second.stop(syscall.SIGKILL)
	d = until(t, first.name+" leading again", func() bool { return leads(first) })
	t.Logf("%s led %v after %s was SIGKILLed", first.name, d.Round(time.Millisecond), second.name)
}

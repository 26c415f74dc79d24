package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/fixwire"
	"github.com/skyfence/skyfence/internal/testkit/testnats"
	"github.com/skyfence/skyfence/natsbus"
	"github.com/skyfence/skyfence/sqlite"
)

// gatewayCtx is what an authorizer decides batches from NATS with.
var gatewayCtx = control.WithPrincipal(context.Background(), &control.Principal{KeyID: "nats:test", Person: "test", Role: skyfence.RoleGateway})

// answers collects the decisions published on NATS, by batch id.
type answers struct {
	mu     sync.Mutex
	by     map[string][]result // in the order they came, parts of a batch appended
	n      int
	binary int // answers in the binary form
}

func (a *answers) add(_ int, b []byte) {
	var out struct {
		BatchID string `json:"batch_id"`
		Results []result
	}
	if len(b) > 0 && b[0] == fixwire.Version {
		var dec fixwire.Decoder
		id, rs, err := dec.Answer(b, nil)
		if err != nil {
			panic(fmt.Sprintf("a binary answer that does not decode: %v", err))
		}
		out.BatchID = id
		a.mu.Lock()
		a.binary++
		a.mu.Unlock()
		for _, r := range rs {
			res := result{TerminalID: r.TerminalID, Allow: r.Allow, Reason: r.Reason, Rule: r.Rule, Message: r.Message, Country: r.Country, Zones: r.Zones}
			if r.Err != nil {
				res.Error = &struct{ Code, Message, Field string }{r.Err.Code, r.Err.Message, r.Err.Field}
			}
			out.Results = append(out.Results, res)
		}
	} else if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("an answer that does not decode: %v: %s", err, b))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.by[out.BatchID] = append(a.by[out.BatchID], out.Results...)
	a.n++
}

func (a *answers) count() int { a.mu.Lock(); defer a.mu.Unlock(); return a.n }

// decider decides batches from NATS with e's service, as an authorizer
// with --fix-partitions does.
func (e *env) decider() *natsbus.FixDecider {
	return &natsbus.FixDecider{Core: e.svc.Authorizer(), May: control.MayIngest}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second) // a bound on a hang, not a measure
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// natsFixes is a gateway, publishing in the binary form or JSON, and the
// answers it reads, on one embedded NATS server.
func natsFixes(t *testing.T, partitions int, ackWait time.Duration, binary bool) (natsbus.FixConfig, *natsbus.FixPublisher, *answers) {
	ns := testnats.Start(t)
	cfg := natsbus.FixConfig{URL: ns.URL(), Namespace: testnats.Namespace(t, ns.URL()), Partitions: partitions, AckWait: ackWait, Binary: binary}
	pub, err := natsbus.OpenFixPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	a := &answers{by: map[string][]result{}}
	ctx, cancel := context.WithCancel(context.Background())
	all := make([]int, partitions)
	for i := range all {
		all[i] = i
	}
	done := make(chan error, 1)
	go func() { done <- pub.Decisions(ctx, all, a.add) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return cfg, pub, a
}

// read runs a reader over every partition until the returned stop.
func read(t *testing.T, cfg natsbus.FixConfig, decide func([]byte, bool) []byte) (*natsbus.FixReader, func()) {
	r, err := natsbus.OpenFixReader(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for p := range r.Partitions() {
		wg.Go(func() { _ = r.Read(ctx, p, decide) })
	}
	return r, func() { cancel(); wg.Wait(); r.Close() }
}

func TestFixesOverNATSKeepEachTerminalsOrder(t *testing.T) {
	for _, binary := range []bool{false, true} {
		t.Run(map[bool]string{false: "json", true: "binary"}[binary], func(t *testing.T) { fixesOverNATSInOrder(t, binary) })
	}
}

// fixesOverNATSInOrder: batches of several terminals' fixes, published in
// one form, are each decided in their terminal's order and answered in
// that form.
func fixesOverNATSInOrder(t *testing.T, binary bool) {
	e := newEnv(t)
	const terms, batches = 6, 3
	for k := range terms {
		id := fmt.Sprintf("ut-%d", k)
		e.register(id, "residential", "UA", true)
		e.must("operator", "POST", "/v1/terminals/"+id+"/activate", map[string]float64{"lat": 50.45, "lon": 30.52}, 200, nil)
	}
	cfg, pub, got := natsFixes(t, 4, 5*time.Second, binary)
	parts := 0
	for b := range batches {
		var fixes []skyfence.Fix
		for k := range terms {
			fixes = append(fixes, skyfence.Fix{TerminalID: fmt.Sprintf("ut-%d", k), Time: testNow.Add(time.Duration(b) * time.Minute),
				Lat: 50.45, Lon: 30.52 + float64(b)*1e-4, SpeedKmh: skyfence.NoSpeed})
		}
		to, err := pub.Publish(context.Background(), fmt.Sprintf("gw-%d", b), fixes)
		if err != nil {
			t.Fatal(err)
		}
		parts += len(to)
	}
	r, stop := read(t, cfg, func(b []byte, _ bool) []byte { return e.decider().Decide(gatewayCtx, b, nil) })
	waitUntil(t, "every answer", func() bool { return got.count() == parts })
	stop()
	for b := range batches {
		rs := got.by[fmt.Sprintf("gw-%d", b)]
		if len(rs) != terms {
			t.Fatalf("batch %d: %d results, want %d: %+v", b, len(rs), terms, rs)
		}
		for _, res := range rs {
			// A fix decided after a later one of its terminal would be a
			// conflict: each was applied, so each terminal's came in order.
			if res.Error != nil || !res.Allow {
				t.Errorf("batch %d: %+v %+v", b, res, res.Error)
			}
		}
	}
	for k := range terms {
		st, err := e.svc.State(control.WithPrincipal(context.Background(), control.System), fmt.Sprintf("ut-%d", k))
		if err != nil || !st.Fix.Time.Equal(testNow.Add((batches-1)*time.Minute)) {
			t.Errorf("ut-%d: state %+v %v, want the last batch's fix", k, st, err)
		}
	}
	if want := map[bool]int{false: 0, true: parts}[binary]; got.binary != want {
		t.Errorf("%d of %d answers in the binary form, want %d", got.binary, parts, want)
	}
	if st := r.Stats(); st.Batches != uint64(parts) || st.Redelivered != 0 {
		t.Errorf("reader: %+v, want %d batches", st, parts)
	}
}

func TestFixesOverNATSRedeliveredApplyNothingTwice(t *testing.T) {
	e := newEnv(t)
	e.register("ut-1", "residential", "UA", true)
	e.must("operator", "POST", "/v1/terminals/ut-1/activate", map[string]float64{"lat": 50.45, "lon": 30.52}, 200, nil)
	cfg, pub, got := natsFixes(t, 1, 300*time.Millisecond, false)
	fixes := []skyfence.Fix{
		{TerminalID: "ut-1", Time: testNow, Lat: 50.45, Lon: 30.52, SpeedKmh: 0},
		{TerminalID: "ut-1", Time: testNow.Add(time.Minute), Lat: 50.46, Lon: 30.52, SpeedKmh: 12},
	}
	if _, err := pub.Publish(context.Background(), "gw-1", fixes); err != nil {
		t.Fatal(err)
	}
	// The first authorizer applies the batch and dies before answering
	// and acknowledging it.
	r1, err := natsbus.OpenFixReader(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, die := context.WithCancel(context.Background())
	var first []byte
	if err := r1.Read(ctx, 0, func(b []byte, _ bool) []byte {
		first = e.decider().Decide(gatewayCtx, b, nil)
		die()
		return first
	}); err == nil {
		t.Fatal("Read returned nil after the authorizer died holding a batch")
	}
	r1.Close()
	var rs struct{ Results []result }
	if err := json.Unmarshal(first, &rs); err != nil || len(rs.Results) != 2 || rs.Results[0].Error != nil || rs.Results[1].Error != nil {
		t.Fatalf("the first attempt: %s %v", first, err)
	}
	before, err := e.svc.State(control.WithPrincipal(context.Background(), control.System), "ut-1")
	if err != nil {
		t.Fatal(err)
	}
	rejectedBefore := e.svc.Authorizer().Stats.Rejected.Load()
	// The next authorizer of the partition gets it again, marked, and
	// applies none of its fixes.
	var marked bool
	r2, stop := read(t, cfg, func(b []byte, redelivered bool) []byte {
		marked = redelivered
		return e.decider().Decide(gatewayCtx, b, nil)
	})
	waitUntil(t, "the answer", func() bool { return got.count() == 1 })
	stop()
	res := got.by["gw-1"]
	if !marked || len(res) != 2 || r2.Stats().Redelivered != 1 {
		t.Fatalf("redelivered %v, answer %+v, stats %+v", marked, res, r2.Stats())
	}
	for i, x := range res {
		if x.Error == nil || x.Error.Code != "conflict" || x.Error.Field != "time" {
			t.Errorf("fix %d decided again: %+v", i, x)
		}
	}
	after, err := e.svc.State(control.WithPrincipal(context.Background(), control.System), "ut-1")
	if err != nil || !after.Fix.Time.Equal(before.Fix.Time) || after.Reason != before.Reason {
		t.Errorf("state changed by the redelivery: %+v -> %+v (%v)", before, after, err)
	}
	if n := e.svc.Authorizer().Stats.Rejected.Load() - rejectedBefore; n != 2 {
		t.Errorf("%d fixes refused on redelivery, want 2", n)
	}
}

// BenchmarkFixesOverNATS measures one authorizer consuming the stream of
// fixes (embedded nats-server, or SKYFENCE_TEST_NATS_URL's): 16
// partitions, batches of 1,000 fixes of 1,000 active terminals (about 63
// fixes a partition's message), a reader goroutine a partition as serve
// --fix-partitions runs them, each batch decided by natsbus.FixDecider on a
// SQLite service, answered on the decision subjects and acknowledged.
// publish-ns/fix is the gateway's cost; consume-fixes/s what the
// authorizer takes; in JSON and in the binary form.
func BenchmarkFixesOverNATS(b *testing.B) {
	for _, binary := range []bool{false, true} {
		b.Run(map[bool]string{false: "json", true: "binary"}[binary], func(b *testing.B) { benchFixesOverNATS(b, binary) })
	}
}

func benchFixesOverNATS(b *testing.B, binary bool) {
	a, snap := scenario(b)
	ctx := context.Background()
	store, err := sqlite.Open(ctx, b.TempDir()+"/skyfence.db", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	svc, err := control.New(ctx, control.Config{Store: store, Atlas: a, Policy: snap, Now: func() time.Time { return testNow }})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close(ctx)
	sys := control.WithPrincipal(ctx, control.System)
	if err := svc.CreateAccount(sys, &skyfence.Account{ID: "acct", Name: "A"}); err != nil {
		b.Fatal(err)
	}
	const terms = 1000
	ts := make([]*skyfence.Terminal, terms)
	for k := range ts {
		ts[k] = &skyfence.Terminal{ID: fmt.Sprintf("ut-%d", k), AccountID: "acct", Plan: "roam", Country: "DE", Status: skyfence.Active}
	}
	if err := svc.ImportTerminals(sys, ts, "benchmark"); err != nil {
		b.Fatal(err)
	}
	api := &natsbus.FixDecider{Core: svc.Authorizer(), May: control.MayIngest}

	url := os.Getenv(testnats.EnvURL)
	if url == "" {
		url = testnats.Start(b).URL()
	}
	cfg := natsbus.FixConfig{URL: url, Namespace: testnats.Namespace(b, url), Partitions: 16, MaxBytes: 8 << 30, Binary: binary}
	pub, err := natsbus.OpenFixPublisher(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	fixes := make([]skyfence.Fix, terms)
	t0 := testNow.Add(-24 * time.Hour)
	n, messages := 0, 0
	for i := 0; b.Loop(); i++ {
		for k := range fixes {
			fixes[k] = skyfence.Fix{TerminalID: ts[k].ID, Time: t0.Add(time.Duration(i) * time.Second), Lat: 52.52, Lon: 13.40, SpeedKmh: 0}
		}
		to, err := pub.Publish(ctx, "gw-"+strconv.Itoa(i), fixes)
		if err != nil {
			b.Fatal(err)
		}
		n += len(fixes)
		messages += len(to)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "publish-ns/fix")

	r, err := natsbus.OpenFixReader(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	gw := control.WithPrincipal(ctx, &control.Principal{KeyID: "nats:bench", Role: skyfence.RoleGateway})
	var conflicts atomic.Int64
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for p := range r.Partitions() {
		wg.Go(func() {
			var out []byte
			_ = r.Read(rctx, p, func(batch []byte, _ bool) []byte {
				out = api.Decide(gw, batch, out[:0])
				if bytes.Contains(out, []byte("conflict")) { // either form
					conflicts.Add(1)
				}
				return out
			})
		})
	}
	for r.Stats().Batches < uint64(messages) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	cancel()
	wg.Wait()
	if st := r.Stats(); st.Batches != uint64(messages) || conflicts.Load() != 0 {
		b.Fatalf("%+v of %d messages, %d answers with conflicts", st, messages, conflicts.Load())
	}
	b.ReportMetric(float64(n)/elapsed.Seconds(), "consume-fixes/s")
}

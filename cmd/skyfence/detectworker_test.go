package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/bus"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/natsbus"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/postgres"
)

// startWorker starts a detect-worker on the cluster's NATS namespace and
// database db, listening for /metrics, and waits until it reads.
func (c *clusterEnv) startWorker(t *testing.T, name, db string) *authorizer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	w, out := c.launch(t, name, "detect-worker", "--node", name, "--addr", addr, "--data", c.data,
		"--store", "postgres", "--postgres-url", db, "--nats-url", c.nats, "--nats-namespace", c.namespace,
		"--obs-partitions", "4", "--ack-wait", "2s")
	w.base = "http://" + addr
	sc := bufio.NewScanner(out)
	if !sc.Scan() || !strings.Contains(sc.Text(), "is reading 4 of 4 partitions") {
		w.stop(syscall.SIGKILL)
		b, _ := os.ReadFile(w.log)
		t.Fatalf("worker %s did not start:\n%s", name, b)
	}
	go io.Copy(io.Discard, out)
	return w
}

// alerts returns terminal id's alerts as the authorizer lists them from
// the store.
func (a *authorizer) alerts(id string) []detect.Alert {
	a.t.Helper()
	var out struct{ Alerts []detect.Alert }
	if err := json.Unmarshal([]byte(a.must("GET", "/v1/alerts?terminal_id="+id, a.key, "")), &out); err != nil {
		a.t.Fatal(err)
	}
	return out.Alerts
}

// An authorizer with --detect-mode worker runs no detection: its decided
// fixes go through JetStream to a detect-worker, which stores the alert.
// The first worker cannot store it (PostgreSQL is away for it) and is
// SIGKILLed holding the batch unacknowledged; the next worker gets that
// batch again, and only that one, and stores the alert, once.
func TestClusterDetectWorker(t *testing.T) {
	if natsbus.Partition("t1", 4) == natsbus.Partition("t2", 4) {
		t.Fatal("t1 and t2 share a partition of 4: the test counts their batches apart")
	}
	c := newCluster(t, natsURL(t))
	c.extra = []string{"--detect=true", "--detect-mode", "worker", "--obs-partitions", "4"}
	a1 := c.start(t, "a1", "")
	gw := setUp(t, a1, "t1", "t2")

	u, err := url.Parse(c.db)
	if err != nil {
		t.Fatal(err)
	}
	pg := newProxy(t, u.Host)
	u.Host = pg.addr
	w1 := c.startWorker(t, "w1", u.String())
	pg.stop()

	// t1 jumps from Berlin to Tokyo in a minute; t2 drives along.
	at := time.Now().UTC().Add(-time.Hour)
	fix := func(id string, i int, lat, lon float64) string {
		return fmt.Sprintf(`{"terminal_id":%q,"time":%q,"lat":%v,"lon":%v}`, id, at.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), lat, lon)
	}
	var fixes []string
	for i := range 5 {
		fixes = append(fixes, fix("t2", i, berlinLat, berlinLon+float64(i)*0.01))
	}
	fixes = append(fixes, fix("t1", 0, berlinLat, berlinLon), fix("t1", 1, 35.68, 139.69))
	a1.must("POST", "/v1/fixes", gw, `{"fixes":[`+strings.Join(fixes, ",")+`]}`)
	until(t, "the authorizer published its observations", func() bool {
		return a1.metric(`skyfence_cluster_observations_total{what="sent"}`) == "7"
	})
	if v := a1.metric("skyfence_detect_observations_total"); v != "7" {
		t.Errorf("detection was offered %s observations, want 7", v)
	}
	until(t, "w1 fails to store the alert", func() bool { v := w1.metric("skyfence_worker_save_failures_total"); return v != "" && v != "0" })
	// t2's batch is in a partition of its own, read by another of w1's
	// goroutines: w1 raises no alert from it, and holds it only until the
	// server confirms its acknowledgement. Killed before that, w1 would
	// hand it on to w2 as well.
	until(t, "w1 acknowledged t2's batch", func() bool { return w1.metric("skyfence_worker_batches_total") == "1" })
	w1.stop(syscall.SIGKILL)
	if got := a1.alerts("t1"); len(got) != 0 {
		t.Fatalf("an alert stored while the worker could not: %+v", got)
	}

	w2 := c.startWorker(t, "w2", c.db)
	until(t, "w2 stores the alert", func() bool { return len(a1.alerts("t1")) > 0 })
	until(t, "w2 acknowledged the batch w1 held", func() bool { return w2.metric("skyfence_worker_batches_total") == "1" })
	got := a1.alerts("t1")
	if len(got) != 1 || got[0].Detector != detect.ImpossibleTravel || got[0].Count != 1 {
		t.Fatalf("alerts of t1: %+v, want one impossible_travel", got)
	}
	if n := w2.metric("skyfence_worker_redelivered_total"); n != "1" {
		t.Errorf("w2 got %s batches again, want 1: the one w1 held", n)
	}
	if n := len(a1.alerts("t2")); n != 0 {
		t.Errorf("t2, driving, raised %d alerts", n)
	}
}

// A batch handled twice, by two engines (a worker that stored its alerts
// and died before acknowledging, and the next), stores one alert: ids
// are stable and SaveAlerts upserts.
func TestWorkerHandlesABatchTwiceIdempotently(t *testing.T) {
	db := freshDatabase(t)
	ctx := context.Background()
	store, err := postgres.Open(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	term := &skyfence.Terminal{ID: "t1", Plan: "roam", Country: "DE"}
	obs := func(at time.Time, lat, lon float64, country string) detect.Observation {
		return detect.Observation{Terminal: term, Received: at,
			Fix:      skyfence.Fix{TerminalID: "t1", Time: at, Lat: lat, Lon: lon, SpeedKmh: skyfence.NoSpeed},
			Decision: policy.Decision{Allow: true, Country: country, Land: true, Located: true}}
	}
	batch := []detect.Observation{obs(t0, berlinLat, berlinLon, "DE"), obs(t0.Add(time.Minute), 35.68, 139.69, "JP")}
	var events []bus.Event
	for range 2 {
		e, err := detect.New(detect.DefaultConfig(), detect.Options{})
		if err != nil {
			t.Fatal(err)
		}
		local := bus.NewLocal()
		unsub := local.Subscribe("test", 16, func(e bus.Event) { events = append(events, e) })
		w := &worker{store: store, engine: e, events: local, source: "/skyfence/detect/test"}
		if err := w.handle(ctx, append([]detect.Observation(nil), batch...)); err != nil {
			t.Fatal(err)
		}
		unsub()
	}
	recs, _, err := store.FindAlerts(ctx, skyfence.AlertFilter{TerminalID: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Detector != "impossible_travel" {
		t.Fatalf("stored %+v, want one impossible_travel alert", recs)
	}
	if len(events) != 2 || events[0].ID != events[1].ID {
		t.Fatalf("events %+v: want the same alert.raised event, by id, from both", events)
	}
}

// A worker stores the GNSS interference incidents its engine opens with
// the alerts that carry them, before it acknowledges the batch; a batch
// handled again by a fresh engine stores the same incident once.
func TestWorkerStoresIncidents(t *testing.T) {
	db := freshDatabase(t)
	ctx := context.Background()
	store, err := postgres.Open(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	// Twelve terminals around Kyiv whose receivers all report one point
	// near Kursk at once, while their serving cells stay at home.
	var batch []detect.Observation
	for _, spoofed := range []bool{false, true} {
		for k := range 12 {
			term := &skyfence.Terminal{ID: fmt.Sprintf("t%02d", k), Plan: "residential", Country: "UA"}
			lat, lon := 50.1+0.06*float64(k), 30.2+0.05*float64(k)
			at := t0.Add(time.Duration(k) * 100 * time.Millisecond)
			f := skyfence.Fix{TerminalID: term.ID, Time: at, Lat: lat, Lon: lon, SpeedKmh: skyfence.NoSpeed, ServingCell: skyfence.CellOf(lat, lon)}
			d := policy.Decision{Allow: true, Country: "UA", Land: true, Located: true}
			if spoofed {
				f.Time, f.Lat, f.Lon = at.Add(15*time.Second), 51.7, 36.2
				d = policy.Decision{Country: "RU", Reason: policy.RegionEmbargoed, Land: true, Located: true}
			}
			batch = append(batch, detect.Observation{Terminal: term, Received: f.Time, Fix: f, Decision: d})
		}
	}
	for range 2 {
		e, err := detect.New(detect.DefaultConfig(), detect.Options{})
		if err != nil {
			t.Fatal(err)
		}
		w := &worker{store: store, engine: e, events: bus.NewLocal(), source: "/skyfence/detect/test"}
		if err := w.handle(ctx, append([]detect.Observation(nil), batch...)); err != nil {
			t.Fatal(err)
		}
	}
	incs, next, err := store.FindIncidents(ctx, skyfence.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != 1 || !next.IsZero() || incs[0].State != skyfence.IncidentOpen || incs[0].Terminals != 12 {
		t.Fatalf("stored incidents %+v, want one open, of 12 terminals", incs)
	}
	recs, _, err := store.FindAlerts(ctx, skyfence.AlertFilter{Incident: incs[0].ID, Detector: "impossible_travel"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 12 {
		t.Fatalf("%d impossible_travel alerts carry incident %s, want 12", len(recs), incs[0].ID)
	}
}

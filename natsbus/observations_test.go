package natsbus_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/internal/testkit/testnats"
	"github.com/skyfence/skyfence/natsbus"
)

// observations returns n fixes of each of terms terminals, one a second
// from t0, interleaved as ingest would offer them.
func observations(terms, n int, t0 time.Time) []detect.Observation {
	var out []detect.Observation
	for i := range n {
		for k := range terms {
			id := fmt.Sprintf("ut-%d", k)
			out = append(out, detect.Observation{
				Terminal: &skyfence.Terminal{ID: id, Plan: "roam", Country: "PL"},
				Fix:      skyfence.Fix{TerminalID: id, Time: t0.Add(time.Duration(i) * time.Second), Lat: 50, Lon: 20 + float64(i)*1e-3},
				Received: t0,
			})
		}
	}
	return out
}

func TestObservationsKeepEachTerminalsOrder(t *testing.T) {
	ns := testnats.Start(t)
	cfg := natsbus.ObsConfig{URL: ns.URL(), Namespace: testnats.Namespace(t, ns.URL()), Partitions: 4, Batch: 50}
	pub, err := natsbus.OpenObsPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	all := observations(10, 100, t0)
	for i := 0; i < len(all); i += 300 {
		pub.Publish(all[i:min(i+300, len(all))])
	}
	if st := pub.Stats(); st.Sent != 1000 || st.Dropped != 0 {
		t.Fatalf("publisher: %+v, want 1000 sent, none dropped", st)
	}
	r, err := natsbus.OpenObsReader(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	last := map[string]time.Time{}
	got := 0
	var wg sync.WaitGroup
	for p := range r.Partitions() {
		wg.Go(func() {
			_ = r.Read(ctx, p, func(obs []detect.Observation, _ bool) error {
				mu.Lock()
				defer mu.Unlock()
				for _, o := range obs {
					if natsbus.Partition(o.Fix.TerminalID, 4) != p {
						t.Errorf("%s read from partition %d", o.Fix.TerminalID, p)
					}
					if !o.Fix.Time.After(last[o.Fix.TerminalID]) {
						t.Errorf("%s: fix of %s after one of %s", o.Fix.TerminalID, o.Fix.Time, last[o.Fix.TerminalID])
					}
					last[o.Fix.TerminalID] = o.Fix.Time
					got++
				}
				if got == len(all) {
					cancel()
				}
				return nil
			})
		})
	}
	waitFor(t, "every observation", func() bool { mu.Lock(); defer mu.Unlock(); return got == len(all) })
	cancel()
	wg.Wait()
	if st := r.Stats(); st.Observations != 1000 || st.Redelivered != 0 {
		t.Errorf("reader: %+v", st)
	}
}

func TestObservationsUnacknowledgedComeAgainFirst(t *testing.T) {
	ns := testnats.Start(t)
	cfg := natsbus.ObsConfig{URL: ns.URL(), Namespace: testnats.Namespace(t, ns.URL()), Partitions: 1, Batch: 10,
		AckWait: 300 * time.Millisecond}
	pub, err := natsbus.OpenObsPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	pub.Publish(observations(1, 30, t0)) // three batches of ten
	// The first reader fails the second batch, as a worker that dies
	// before storing its alerts.
	r1, err := natsbus.OpenObsReader(cfg)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	failed := errors.New("store down")
	err = r1.Read(context.Background(), 0, func(obs []detect.Observation, _ bool) error {
		seen++
		if seen == 2 {
			return failed
		}
		return nil
	})
	r1.Close()
	if !errors.Is(err, failed) {
		t.Fatalf("Read returned %v", err)
	}
	// The next reader gets the second batch again, marked, then the third.
	r2, err := natsbus.OpenObsReader(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var firsts []time.Time
	var marks []bool
	_ = r2.Read(ctx, 0, func(obs []detect.Observation, redelivered bool) error {
		firsts = append(firsts, obs[0].Fix.Time)
		marks = append(marks, redelivered)
		if len(firsts) == 2 {
			cancel()
		}
		return nil
	})
	if len(firsts) != 2 || !firsts[0].Equal(t0.Add(10*time.Second)) || !firsts[1].Equal(t0.Add(20*time.Second)) || !marks[0] || marks[1] {
		t.Fatalf("after the failure, batches starting at %v (redelivered %v); want the second batch again, then the third", firsts, marks)
	}
}

// BenchmarkObservations measures both ends over an embedded nats-server
// (or SKYFENCE_TEST_NATS_URL's) with 16 partitions and batches of 512:
// publish-ns/obs is what an authorizer pays per observation (encoding,
// the JetStream round trip, the server's file store); read-obs/s is what
// one worker takes afterwards, the detection engine included (decoding,
// Process, acknowledging one batch per partition at a time), reading the
// partitions as detect-worker does.
func BenchmarkObservations(b *testing.B) {
	url := os.Getenv(testnats.EnvURL)
	if url == "" {
		url = testnats.Start(b).URL()
	}
	cfg := natsbus.ObsConfig{URL: url, Namespace: testnats.Namespace(b, url), Partitions: 16, MaxBytes: 8 << 30}
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	chunk := observations(4096, 1, t0) // what a drained queue holds under load
	pub, err := natsbus.OpenObsPublisher(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	n := 0
	for i := 0; b.Loop(); i++ {
		for k := range chunk {
			chunk[k].Fix.Time = t0.Add(time.Duration(i) * time.Second)
		}
		pub.Publish(chunk)
		n += len(chunk)
	}
	if st := pub.Stats(); st.Dropped > 0 {
		b.Fatalf("%+v", st)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "publish-ns/obs")
	b.ReportMetric(float64(pub.Stats().Bytes)/float64(n), "B/obs")

	r, err := natsbus.OpenObsReader(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	e, err := detect.New(detect.DefaultConfig(), detect.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	got := 0
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for p := range r.Partitions() {
		wg.Go(func() {
			_ = r.Read(ctx, p, func(obs []detect.Observation, _ bool) error {
				mu.Lock()
				defer mu.Unlock()
				for i := range obs {
					e.Process(&obs[i])
				}
				if got += len(obs); got >= n {
					cancel()
				}
				return nil
			})
		})
	}
	wg.Wait()
	b.ReportMetric(float64(got)/time.Since(start).Seconds(), "read-obs/s")
}

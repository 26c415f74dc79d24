package detect

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestQueueOverflowIsCounted(t *testing.T) {
	e := newEngine(t, func(c *Config) { c.QueueSize = 4 })
	q := NewQueue(e)
	stream := hopper(10, t0, 10*time.Second)
	accepted := 0
	for _, o := range stream[:6] {
		if q.Offer(o) {
			accepted++
		}
	}
	if n := q.OfferBatch(stream[6:]); n != 0 {
		t.Errorf("OfferBatch into a full queue accepted %d, want 0", n)
	}
	s := q.Stats()
	if accepted != 4 || s.Offered != 4 || s.Dropped != 6 || s.Pending != 4 {
		t.Fatalf("accepted %d, stats %+v; want 4 offered, 6 dropped, 4 pending", accepted, s)
	}
	q.Close()
	if q.Offer(stream[0]) {
		t.Error("a closed queue accepted an observation")
	}
	var got []Alert
	if err := q.Run(context.Background(), func(a Alert) { got = append(got, a) }); err != nil {
		t.Fatal(err)
	}
	s = q.Stats()
	if s.Engine.Observations != 4 || s.Pending != 0 || s.Dropped != 7 {
		t.Errorf("after Run: %+v, want 4 observations processed, none pending, 7 dropped", s)
	}
	// Fixes 0-3 of the hopper, 10 s apart: impossible travel opened at fix
	// 1, and its later firings held back until the flush at the end.
	travel := of(got, ImpossibleTravel)
	if n := len(travel); n != 2 || travel[1].Count != 3 {
		t.Errorf("impossible_travel emitted %d times, last with count %d; want twice, the flush with count 3", n, travel[n-1].Count)
	}
}

func TestQueueOfferBatchPartly(t *testing.T) {
	e := newEngine(t, func(c *Config) { c.QueueSize = 5 })
	q := NewQueue(e)
	stream := hopper(8, t0, time.Minute)
	stream[0].Received = time.Time{}
	if n := q.OfferBatch(stream); n != 5 {
		t.Fatalf("accepted %d of 8 into 5 places, want 5", n)
	}
	if !stream[0].Received.IsZero() {
		t.Error("OfferBatch changed its argument")
	}
	if q.buf[0].Received != t0 {
		t.Errorf("queued observation received at %v, want the clock's %v", q.buf[0].Received, t0)
	}
	if s := q.Stats(); s.Offered != 5 || s.Dropped != 3 {
		t.Errorf("stats %+v, want 5 offered, 3 dropped", s)
	}
}

func TestQueueRunStopsWithContext(t *testing.T) {
	q := NewQueue(newEngine(t, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- q.Run(ctx, func(Alert) {}) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
}

// TestQueueMatchesProcess checks that alerts through a queue fed from
// several goroutines are those of Process over the same observations in
// the order the queue took them, and that nothing is lost when the queue
// has room.
func TestQueueMatchesProcess(t *testing.T) {
	const producers = 4
	streams := make([][]Observation, producers)
	for p := range streams {
		streams[p] = mixed(uint64(p+1), 100, 20_000)
		for i := range streams[p] {
			// Each producer's own terminals.
			o := &streams[p][i]
			term := *o.Terminal
			term.ID = string(rune('A'+p)) + term.ID
			o.Terminal, o.Fix.TerminalID = &term, term.ID
		}
	}
	e := newEngine(t, func(c *Config) { c.QueueSize = producers * 20_000 })
	q := NewQueue(e)
	var wg sync.WaitGroup
	for p := range streams {
		wg.Go(func() {
			for i := 0; i < len(streams[p]); i += 100 {
				q.OfferBatch(streams[p][i : i+100])
			}
		})
	}
	wg.Wait()
	order := append([]Observation(nil), q.buf...) // what Run will see
	q.Close()
	var viaQueue []Alert
	if err := q.Run(context.Background(), func(a Alert) { viaQueue = append(viaQueue, a) }); err != nil {
		t.Fatal(err)
	}
	if s := q.Stats(); s.Dropped != 0 || s.Offered != producers*20_000 || s.Engine.Observations != s.Offered {
		t.Fatalf("stats %+v, want every observation offered and processed", s)
	}
	direct := newEngine(t, nil)
	want := feed(direct, order)
	want = append(want, direct.Flush()...)
	a, _ := json.Marshal(viaQueue)
	b, _ := json.Marshal(want)
	if string(a) != string(b) {
		t.Errorf("alerts through the queue (%d) differ from Process over the same order (%d)", len(viaQueue), len(want))
	}
}

package natsbus_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/skyfence/skyfence/bus"
	"github.com/skyfence/skyfence/internal/testkit/testnats"
	"github.com/skyfence/skyfence/natsbus"
)

// open opens a bus on url in namespace ns with its spool in dir.
func open(t *testing.T, url, ns, dir string, spoolBytes int64) *natsbus.Bus {
	t.Helper()
	b, err := natsbus.Open(natsbus.Config{URL: url, Namespace: ns, SpoolFile: filepath.Join(dir, "events.spool"),
		SpoolBytes: spoolBytes, Retry: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func event(t *testing.T, i int) bus.Event {
	t.Helper()
	e, err := bus.New("/test", bus.TerminalChanged, fmt.Sprintf("ut-%d", i), time.Now(), map[string]int{"n": i})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// collector gathers what a subscriber receives.
type collector struct {
	mu  sync.Mutex
	got []string
}

func (c *collector) add(e bus.Event) {
	c.mu.Lock()
	c.got = append(c.got, e.Subject)
	c.mu.Unlock()
}

func (c *collector) subjects() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

// waitFor polls cond until it holds, failing the test after a generous
// deadline (not a measure of speed: a bound on a hang).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// subscribe subscribes c to b and waits until the subscription sees the
// stream (an event published from then on reaches it).
func subscribe(t *testing.T, b, probe *natsbus.Bus, c *collector) {
	t.Helper()
	t.Cleanup(b.Subscribe("test", 100000, c.add))
	// The consumer starts at the time of Subscribe; a probe published
	// until one arrives shows it is running.
	for i := 0; len(c.subjects()) == 0; i++ {
		if i == 2000 {
			t.Fatal("the subscription never started")
		}
		e, _ := bus.New("/test", bus.AlertRaised, "probe", time.Now(), nil)
		probe.Publish(e)
		time.Sleep(10 * time.Millisecond)
	}
	c.mu.Lock()
	c.got = nil
	c.mu.Unlock()
}

func want(n, from int) []string {
	out := make([]string, 0, n)
	for i := from; i < from+n; i++ {
		out = append(out, fmt.Sprintf("ut-%d", i))
	}
	return out
}

// received returns the terminal events c got, probes left out.
func (c *collector) received() []string {
	var out []string
	for _, s := range c.subjects() {
		if s != "probe" {
			out = append(out, s)
		}
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Two processes on the machine's server: what one publishes, the other
// receives, in order, and so does the publisher's own subscription.
func TestPublishSubscribe(t *testing.T) {
	url := testnats.URL(t)
	ns := testnats.Namespace(t, url)
	a := open(t, url, ns, t.TempDir(), 0)
	b := open(t, url, ns, t.TempDir(), 0)
	var atB, atA collector
	subscribe(t, b, a, &atB)
	subscribe(t, a, a, &atA)
	for i := range 1000 {
		a.Publish(event(t, i))
	}
	waitFor(t, "1000 events at b", func() bool { return len(atB.received()) >= 1000 })
	waitFor(t, "1000 events at a", func() bool { return len(atA.received()) >= 1000 })
	if got := atB.received(); !equal(got, want(1000, 0)) {
		t.Errorf("b received %d events, not in order: first %v", len(got), got[:min(5, len(got))])
	}
	if got := atA.received(); !equal(got, want(1000, 0)) {
		t.Errorf("a received %d events, not in order", len(got))
	}
	st := a.Stats()
	if st.Sent < 1000 || st.Spooled != 0 || st.Overflow != 0 || !st.Connected {
		t.Errorf("stats %+v", st)
	}
}

// NATS goes away: Publish still returns at once, events go to the spool,
// and when the server is back they reach subscribers in order, before any
// event published after the outage.
func TestOutageSpoolsAndReplaysInOrder(t *testing.T) {
	srv := testnats.Start(t)
	ns := testnats.Namespace(t, srv.URL())
	pub := open(t, srv.URL(), ns, t.TempDir(), 0)
	sub := open(t, srv.URL(), ns, t.TempDir(), 0)
	var c collector
	subscribe(t, sub, pub, &c)
	for i := range 100 {
		pub.Publish(event(t, i))
	}
	waitFor(t, "the first 100 events", func() bool { return len(c.received()) >= 100 })

	srv.Stop()
	waitFor(t, "the disconnection", func() bool { return !pub.Stats().Connected })
	start := time.Now()
	for i := 100; i < 600; i++ {
		pub.Publish(event(t, i))
	}
	t.Logf("500 publishes while NATS is down took %v", time.Since(start))
	waitFor(t, "500 events spooled", func() bool { return pub.Stats().Spooled >= 500 })
	if st := pub.Stats(); st.SpoolBytes == 0 || st.Overflow != 0 {
		t.Fatalf("while down: %+v", st)
	}

	srv.Start()
	for i := 600; i < 700; i++ {
		pub.Publish(event(t, i))
	}
	waitFor(t, "all 700 events", func() bool { return len(c.received()) >= 700 })
	if got := c.received(); !equal(got, want(700, 0)) {
		t.Errorf("received %d events, not in order:\n%v", len(got), got)
	}
	// The counters move after the server acknowledged a replayed batch,
	// which may be after the subscriber got it.
	waitFor(t, "the spool emptied", func() bool { st := pub.Stats(); return st.Replayed >= 500 && st.SpoolBytes == 0 })
	if st := pub.Stats(); st.Overflow != 0 {
		t.Errorf("after the outage: %+v", st)
	}
}

// The spool is bounded: what does not fit is counted, never silent; what
// fit is replayed.
func TestSpoolOverflowIsCounted(t *testing.T) {
	srv := testnats.Start(t)
	ns := testnats.Namespace(t, srv.URL())
	line, err := json.Marshal(event(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	pub := open(t, srv.URL(), ns, t.TempDir(), int64(10*(len(line)+1))) // about ten events
	sub := open(t, srv.URL(), ns, t.TempDir(), 0)
	var c collector
	subscribe(t, sub, pub, &c)
	srv.Stop()
	waitFor(t, "the disconnection", func() bool { return !pub.Stats().Connected })
	for i := range 100 {
		pub.Publish(event(t, i))
	}
	waitFor(t, "100 events spooled or counted", func() bool {
		st := pub.Stats()
		return st.Spooled+st.Overflow >= 100
	})
	st := pub.Stats()
	if st.Spooled == 0 || st.Overflow == 0 {
		t.Fatalf("want some spooled and some overflowing: %+v", st)
	}
	srv.Start()
	waitFor(t, "the spooled events", func() bool { return len(c.received()) >= int(st.Spooled) })
	if got := c.received(); !equal(got, want(int(st.Spooled), 0)) {
		t.Errorf("received %v, want the first %d", got, st.Spooled)
	}
}

// A process closed (or restarted) while NATS is away leaves its events in
// the spool; the next process on the same spool replays them.
func TestSpoolOutlivesTheProcess(t *testing.T) {
	srv := testnats.Start(t)
	ns := testnats.Namespace(t, srv.URL())
	dir := t.TempDir()
	sub := open(t, srv.URL(), ns, t.TempDir(), 0)
	probe := open(t, srv.URL(), ns, t.TempDir(), 0)
	var c collector
	subscribe(t, sub, probe, &c)
	srv.Stop()
	first, err := natsbus.Open(natsbus.Config{URL: srv.URL(), Namespace: ns, SpoolFile: filepath.Join(dir, "events.spool")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		first.Publish(event(t, i))
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "events.spool")); err != nil || fi.Size() == 0 {
		t.Fatalf("spool after close: %v, %v", fi, err)
	}
	srv.Start()
	second := open(t, srv.URL(), ns, dir, 0)
	second.Publish(event(t, 50))
	waitFor(t, "51 events", func() bool { return len(c.received()) >= 51 })
	if got := c.received(); !equal(got, want(51, 0)) {
		t.Errorf("received %v", got)
	}
}

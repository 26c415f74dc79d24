package bus

import (
	"encoding/json"
	"sync"
	"testing"
	"time"
)

func TestLocalDeliversInOrderToEverySubscriber(t *testing.T) {
	l := NewLocal()
	var mu sync.Mutex
	got := map[string][]string{}
	var unsub []func()
	for _, name := range []string{"a", "b"} {
		unsub = append(unsub, l.Subscribe(name, 100, func(e Event) {
			mu.Lock()
			got[name] = append(got[name], e.Subject)
			mu.Unlock()
		}))
	}
	for _, s := range []string{"t1", "t2", "t3"} {
		e, err := New("test", Cutoff, s, time.Unix(0, 0), map[string]string{"status": "suspended"})
		if err != nil {
			t.Fatal(err)
		}
		l.Publish(e)
	}
	for _, u := range unsub {
		u() // waits for the last delivery
	}
	for _, name := range []string{"a", "b"} {
		if s := got[name]; len(s) != 3 || s[0] != "t1" || s[1] != "t2" || s[2] != "t3" {
			t.Errorf("subscriber %s got %v, want [t1 t2 t3]", name, s)
		}
	}
}

func TestLocalCountsOverflow(t *testing.T) {
	l := NewLocal()
	block := make(chan struct{})
	unsub := l.Subscribe("slow", 1, func(Event) { <-block })
	for range 10 {
		l.Publish(Event{Type: AlertRaised})
	}
	// One event is in fn, at most one waits in the queue: 8 or more dropped.
	if d := l.Dropped()["slow"]; d < 8 {
		t.Errorf("dropped = %d, want >= 8", d)
	}
	close(block)
	unsub()
	if l.Published.Load() != 10 {
		t.Errorf("published = %d, want 10", l.Published.Load())
	}
}

func TestEventIsCloudEventsJSON(t *testing.T) {
	e, err := New("/skyfence/test", CaseChanged, "case-1", time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC), map[string]int{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(e)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data"} {
		if _, ok := m[k]; !ok {
			t.Errorf("event JSON lacks %q: %s", k, b)
		}
	}
	if m["specversion"] != "1.0" || m["time"] != "2026-11-29T06:00:00Z" {
		t.Errorf("event JSON = %s", b)
	}
}

package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skyfence/skyfence/bus"
)

const secret = "whsec_test"

// received is one request a receiver got.
type received struct {
	id, sig, contentType string
	body                 []byte
	event                bus.Event
}

// receiver is a real HTTP server that records what it is sent and answers
// with respond (200 if nil), called with the request's 1-based number.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []received
	arrived chan struct{} // one send per request, before respond
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter) int) *receiver {
	rc := &receiver{arrived: make(chan struct{}, 10000)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var e bus.Event
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("body is not an event: %v: %s", err, body)
		}
		rc.mu.Lock()
		rc.got = append(rc.got, received{r.Header.Get("ce-id"), r.Header.Get(SignatureHeader), r.Header.Get("Content-Type"), body, e})
		n := len(rc.got)
		rc.mu.Unlock()
		rc.arrived <- struct{}{}
		code := http.StatusOK
		if respond != nil {
			code = respond(n, w)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// waitFor blocks until n requests have arrived since the last call.
func (rc *receiver) waitFor(t *testing.T, n int) {
	t.Helper()
	for range n {
		<-rc.arrived
	}
}

// subjects are the subjects of the requests, in the order they arrived.
func (rc *receiver) subjects() []string {
	var s []string
	for _, r := range rc.requests() {
		s = append(s, r.event.Subject)
	}
	return s
}

// waits records the backoffs a Sender asked for, without waiting.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

func event(t *testing.T, typ, subject string) bus.Event {
	t.Helper()
	e, err := bus.New("/skyfence/test", typ, subject, time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC), map[string]string{"terminal_id": subject})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// start starts a Sender on a fresh bus, with a recorded sleep, and closes it
// at the end of the test.
func start(t *testing.T, cfg Config) (*Sender, *bus.Local, *waits) {
	t.Helper()
	w := &waits{}
	cfg.sleep = w.sleep
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	b := bus.NewLocal()
	s, err := Start(b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s, b, w
}

func TestDeliveryIsSignedCloudEvent(t *testing.T) {
	rc := newReceiver(t, nil)
	s, b, _ := start(t, Config{Endpoints: []Endpoint{{URL: rc.URL + "/hook", Secret: secret}}})
	e := event(t, bus.AlertRaised, "ut-1")
	b.Publish(e)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := rc.requests()
	if len(got) != 1 {
		t.Fatalf("requests = %d, want 1", len(got))
	}
	r := got[0]
	if r.contentType != ContentType || r.id != e.ID || r.event.ID != e.ID || r.event.Type != bus.AlertRaised || r.event.SpecVersion != "1.0" {
		t.Errorf("request: content type %q, ce-id %q, event %+v; want %q, %q", r.contentType, r.id, r.event, ContentType, e.ID)
	}
	now := time.Now()
	if err := Verify(secret, r.sig, r.body, now, DefaultTolerance); err != nil {
		t.Errorf("Verify(%q) = %v, want nil", r.sig, err)
	}
	tampered := []byte(strings.Replace(string(r.body), "ut-1", "ut-2", 1))
	if err := Verify(secret, r.sig, tampered, now, DefaultTolerance); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("Verify(tampered body) = %v, want ErrSignatureMismatch", err)
	}
	if err := Verify("another secret", r.sig, r.body, now, DefaultTolerance); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("Verify(wrong secret) = %v, want ErrSignatureMismatch", err)
	}
	if err := Verify(secret, r.sig, r.body, now.Add(time.Hour), DefaultTolerance); !errors.Is(err, ErrSignatureExpired) {
		t.Errorf("Verify an hour later = %v, want ErrSignatureExpired", err)
	}
	if st := s.Stats()[0]; st.Endpoint != strings.TrimPrefix(rc.URL, "http://")+"/hook" || st.Delivered != 1 || st.Retried+st.Failed+st.Dropped != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestRetriesUntilDeliveredOnceWithTheSameID(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter) int {
		if n <= 3 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	s, b, w := start(t, Config{Endpoints: []Endpoint{{URL: rc.URL, Secret: secret}}, BaseBackoff: time.Millisecond, MaxBackoff: time.Second})
	e := event(t, bus.Cutoff, "ut-1")
	b.Publish(e)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := rc.requests()
	if len(got) != 4 {
		t.Fatalf("requests = %d, want 4 (3 failures, 1 success)", len(got))
	}
	for i, r := range got {
		if r.id != e.ID || r.event.ID != e.ID {
			t.Errorf("attempt %d: ce-id %q, event id %q; want %q every time", i+1, r.id, r.event.ID, e.ID)
		}
	}
	if st := s.Stats()[0]; st.Delivered != 1 || st.Retried != 3 || st.Failed != 0 || !strings.Contains(st.LastError, "500") {
		t.Errorf("stats = %+v, want 1 delivered after 3 retries, last error 500", st)
	}
	// Exponential backoff with equal jitter: the n-th wait is in [b/2, b]
	// for b = 1 ms doubled n-1 times.
	ws := w.all()
	if len(ws) != 3 {
		t.Fatalf("waits = %v, want 3", ws)
	}
	for i, d := range ws {
		hi := time.Millisecond << i
		if d < hi/2 || d > hi {
			t.Errorf("wait %d = %v, want in [%v, %v]", i+1, d, hi/2, hi)
		}
	}
}

func TestWhichStatusesAreRetried(t *testing.T) {
	for _, tc := range []struct {
		status   int
		requests int // with MaxAttempts 3
	}{
		{http.StatusBadRequest, 1},
		{http.StatusUnauthorized, 1},
		{http.StatusNotFound, 1},
		{http.StatusGone, 1},
		{http.StatusUnprocessableEntity, 1},
		{http.StatusFound, 1},
		{http.StatusRequestTimeout, 3},
		{http.StatusTooManyRequests, 3},
		{http.StatusInternalServerError, 3},
		{http.StatusBadGateway, 3},
		{http.StatusServiceUnavailable, 3},
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			rc := newReceiver(t, func(int, http.ResponseWriter) int { return tc.status })
			s, b, _ := start(t, Config{Endpoints: []Endpoint{{URL: rc.URL, Secret: secret}}, MaxAttempts: 3, BaseBackoff: time.Millisecond})
			b.Publish(event(t, bus.AlertRaised, "ut-1"))
			if err := s.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := len(rc.requests()); n != tc.requests {
				t.Errorf("requests = %d, want %d", n, tc.requests)
			}
			if st := s.Stats()[0]; st.Failed != 1 || st.Delivered != 0 || st.Retried != uint64(tc.requests-1) {
				t.Errorf("stats = %+v, want 1 failed after %d retries", st, tc.requests-1)
			}
		})
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	date := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	rc := newReceiver(t, func(n int, w http.ResponseWriter) int {
		switch n {
		case 1:
			w.Header().Set("Retry-After", "7")
			return http.StatusTooManyRequests
		case 2:
			w.Header().Set("Retry-After", date)
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	s, b, w := start(t, Config{Endpoints: []Endpoint{{URL: rc.URL, Secret: secret}}, BaseBackoff: time.Millisecond, MaxAge: 2 * time.Hour})
	b.Publish(event(t, bus.AlertRaised, "ut-1"))
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	ws := w.all()
	if len(ws) != 2 || ws[0] != 7*time.Second || ws[1] < 59*time.Minute || ws[1] > time.Hour {
		t.Errorf("waits = %v, want [7s ~1h] as the endpoint asked, not the 1 ms backoff", ws)
	}
	if st := s.Stats()[0]; st.Delivered != 1 || st.Retried != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestRetryAfterBeyondMaxAgeGivesUp(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter) int {
		w.Header().Set("Retry-After", "7200")
		return http.StatusTooManyRequests
	})
	s, b, w := start(t, Config{Endpoints: []Endpoint{{URL: rc.URL, Secret: secret}}, MaxAge: time.Hour})
	b.Publish(event(t, bus.AlertRaised, "ut-1"))
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, ws, st := len(rc.requests()), w.all(), s.Stats()[0]; n != 1 || len(ws) != 0 || st.Failed != 1 {
		t.Errorf("requests %d, waits %v, stats %+v; want 1 request, no wait, 1 failed", n, ws, st)
	}
}

func TestOrderIsKeptPerEndpoint(t *testing.T) {
	// Every third request fails once: retries must not let later events
	// overtake.
	rc := newReceiver(t, func(n int, w http.ResponseWriter) int {
		if n%3 == 0 {
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	s, b, _ := start(t, Config{Endpoints: []Endpoint{{URL: rc.URL, Secret: secret}}, BaseBackoff: time.Millisecond})
	var want []string
	for i := range 100 {
		sub := "ut-" + strconv.Itoa(i)
		want = append(want, sub)
		b.Publish(event(t, bus.CaseChanged, sub))
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rc.requests() {
		if len(got) == 0 || got[len(got)-1] != r.event.Subject {
			got = append(got, r.event.Subject)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("order = %v\nwant %v", got, want)
	}
	if st := s.Stats()[0]; st.Delivered != 100 || st.Retried == 0 {
		t.Errorf("stats = %+v, want 100 delivered, some retried", st)
	}
}

func TestSlowEndpointDoesNotDelayOthers(t *testing.T) {
	release := make(chan struct{})
	slow := newReceiver(t, func(int, http.ResponseWriter) int { <-release; return http.StatusOK })
	fast := newReceiver(t, nil)
	s, b, _ := start(t, Config{Endpoints: []Endpoint{
		{Name: "slow", URL: slow.URL, Secret: secret},
		{Name: "fast", URL: fast.URL, Secret: "other"},
	}})
	const n = 50
	for i := range n {
		b.Publish(event(t, bus.AlertRaised, "ut-"+strconv.Itoa(i)))
	}
	// The slow endpoint holds its first request; the fast one gets all.
	slow.waitFor(t, 1)
	fast.waitFor(t, n)
	if got := len(slow.requests()); got != 1 {
		t.Errorf("slow endpoint got %d requests while blocked, want 1", got)
	}
	if got := len(fast.requests()); got != n {
		t.Errorf("fast endpoint got %d requests while the slow one was blocked, want %d", got, n)
	}
	if st := s.Stats()[0]; st.Delivered != 0 || st.Queued != n-1 {
		t.Errorf("slow endpoint's stats = %+v, want 0 delivered, %d queued", st, n-1)
	}
	close(release)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(slow.subjects()); got != n {
		t.Errorf("slow endpoint got %d after release, want %d", got, n)
	}
}

func TestOverflowIsDroppedAndCounted(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(int, http.ResponseWriter) int { <-release; return http.StatusOK })
	s, _, _ := start(t, Config{Endpoints: []Endpoint{{URL: rc.URL, Secret: secret}}, QueueSize: 2})
	// enqueue is what the bus calls; calling it here keeps the count exact.
	s.enqueue(event(t, bus.AlertRaised, "ut-0"))
	rc.waitFor(t, 1) // ut-0 is in flight, the queue is empty
	for i := 1; i < 10; i++ {
		s.enqueue(event(t, bus.AlertRaised, "ut-"+strconv.Itoa(i)))
	}
	if st := s.Stats()[0]; st.Dropped != 7 || st.Queued != 2 {
		t.Errorf("stats = %+v, want 7 dropped, 2 queued", st)
	}
	close(release)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rc.subjects(), " "); got != "ut-0 ut-1 ut-2" {
		t.Errorf("delivered %s, want ut-0 ut-1 ut-2", got)
	}
}

func TestCloseDrainsTheQueue(t *testing.T) {
	rc := newReceiver(t, nil)
	s, b, _ := start(t, Config{Endpoints: []Endpoint{{URL: rc.URL, Secret: secret}}})
	for i := range 200 {
		b.Publish(event(t, bus.AlertRaised, "ut-"+strconv.Itoa(i)))
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(rc.requests()); got != 200 {
		t.Errorf("delivered %d before Close returned, want 200", got)
	}
}

func TestCloseGivesUpAtTheDeadline(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(int, http.ResponseWriter) int { <-release; return http.StatusOK })
	defer close(release) // lets the test server shut down
	s, b, _ := start(t, Config{Endpoints: []Endpoint{{URL: rc.URL, Secret: secret}}})
	for i := range 5 {
		b.Publish(event(t, bus.AlertRaised, "ut-"+strconv.Itoa(i)))
	}
	rc.waitFor(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the deadline has passed
	err := s.Close(ctx)
	if err == nil || !strings.Contains(err.Error(), "5 events") {
		t.Errorf("Close = %v, want 5 events not delivered", err)
	}
	if st := s.Stats()[0]; st.Dropped != 5 || st.Delivered != 0 || st.Failed != 0 {
		t.Errorf("stats = %+v, want 5 dropped", st)
	}
}

func TestEndpointsGetTheTypesTheyAskFor(t *testing.T) {
	def := newReceiver(t, nil)
	internal := newReceiver(t, nil)
	s, b, _ := start(t, Config{Endpoints: []Endpoint{
		{URL: def.URL, Secret: secret},
		{URL: internal.URL, Secret: secret, Types: []string{bus.TerminalChanged}},
	}})
	for _, typ := range []string{bus.AlertRaised, bus.TerminalChanged, bus.CaseChanged, bus.PolicyActivated, bus.Cutoff} {
		b.Publish(event(t, typ, typ))
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(def.subjects(), " "), bus.AlertRaised+" "+bus.CaseChanged+" "+bus.Cutoff; got != want {
		t.Errorf("default endpoint got %s, want %s", got, want)
	}
	if got := strings.Join(internal.subjects(), " "); got != bus.TerminalChanged {
		t.Errorf("endpoint for %s got %s", bus.TerminalChanged, got)
	}
}

func TestStartChecksEndpoints(t *testing.T) {
	for _, tc := range []struct {
		name string
		eps  []Endpoint
		want string
	}{
		{"no url", []Endpoint{{Secret: "s"}}, "absolute http or https URL"},
		{"relative url", []Endpoint{{URL: "/hook", Secret: "s"}}, "absolute http or https URL"},
		{"ftp", []Endpoint{{URL: "ftp://example.org/", Secret: "s"}}, "absolute http or https URL"},
		{"no secret", []Endpoint{{URL: "https://example.org/"}}, "a secret is required"},
		{"unknown type", []Endpoint{{URL: "https://example.org/", Secret: "s", Types: []string{"alert"}}}, `unknown event type "alert"`},
		{"same name", []Endpoint{{URL: "https://example.org/a", Secret: "s"}, {URL: "https://example.org/a?x=1", Secret: "s"}}, "another endpoint is named"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Start(bus.NewLocal(), Config{Endpoints: tc.eps})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Start = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestWriteMetrics(t *testing.T) {
	rc := newReceiver(t, nil)
	s, b, _ := start(t, Config{Endpoints: []Endpoint{{Name: "siem", URL: rc.URL, Secret: secret}}})
	b.Publish(event(t, bus.AlertRaised, "ut-1"))
	_ = s.Close(context.Background())
	var out strings.Builder
	s.WriteMetrics(&out)
	for _, line := range []string{
		`skyfence_webhook_delivered_total{endpoint="siem"} 1`,
		`skyfence_webhook_dropped_total{endpoint="siem"} 0`,
		"# TYPE skyfence_webhook_queued gauge",
	} {
		if !strings.Contains(out.String(), line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, out.String())
		}
	}
}

func TestRetryAfterParses(t *testing.T) {
	now := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		h    string
		want time.Duration
	}{
		{"", -1},
		{"0", 0},
		{"120", 2 * time.Minute},
		{"-5", -1},
		{"soon", -1},
		{"99999999999", -1},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	} {
		if got := retryAfter(tc.h, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.h, got, tc.want)
		}
	}
}

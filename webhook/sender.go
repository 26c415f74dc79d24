// Package webhook delivers skyfence's events to HTTP endpoints that
// operators configure: each event is POSTed as its CloudEvents structured
// JSON, signed with HMAC-SHA256 and the endpoint's secret (SignatureHeader,
// Verify), and retried with exponential backoff and jitter while the
// failure may pass.
//
// Each endpoint has its own bounded queue and its own goroutine: its events
// arrive in the order they were published, a slow or failing endpoint delays
// only itself, and the publisher never waits. An event that does not fit an
// endpoint's queue is dropped and counted (Stats).
//
// webhook owns delivery to endpoints: queues, signatures and retries. It
// imports only bus and the standard library: never the domain, the service
// or a store.
package webhook

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skyfence/skyfence/bus"
)

// DefaultTypes are the event types an endpoint receives when it names none:
// alerts, case changes and cut-offs. bus.TerminalChanged,
// bus.PolicyActivated and bus.KeyRevoked are internal traffic, sent only to
// endpoints that ask.
var DefaultTypes = []string{bus.AlertRaised, bus.CaseChanged, bus.Cutoff}

// knownTypes are the types an endpoint may ask for.
var knownTypes = []string{bus.AlertRaised, bus.CaseChanged, bus.Cutoff, bus.TerminalChanged, bus.PolicyActivated, bus.KeyRevoked}

// ContentType is the Content-Type of every delivery.
const ContentType = "application/cloudevents+json"

// Endpoint is where some events go.
type Endpoint struct {
	// Name identifies the endpoint in stats, metrics and logs; the URL's
	// host and path if empty. Names are unique.
	Name string
	// URL is where events are POSTed: http or https.
	URL string
	// Secret is the HMAC key of the signature; required.
	Secret string
	// Types are the event types sent here; DefaultTypes if empty.
	Types []string
}

// Config configures a Sender. The zero value of every field but Endpoints
// is a sensible default.
type Config struct {
	Endpoints []Endpoint
	// Client sends the requests; a client with a 10 s timeout that does not
	// follow redirects if nil (a redirect is a failure, not retried).
	Client *http.Client
	// QueueSize bounds the events waiting per endpoint; 1000 if zero.
	QueueSize int
	// MaxAttempts bounds the attempts per event, the first included; 10 if
	// zero.
	MaxAttempts int
	// MaxAge bounds how long after it was queued an event is still tried;
	// 1 h if zero.
	MaxAge time.Duration
	// BaseBackoff is the wait before the first retry, doubled for every
	// further retry up to MaxBackoff, with jitter; 1 s and 5 min if zero.
	BaseBackoff, MaxBackoff time.Duration
	Logger                  *slog.Logger
	// Now is the clock of signatures and ages; time.Now if nil.
	Now func() time.Time

	// sleep waits d or until ctx ends; tests record the waits instead.
	sleep func(ctx context.Context, d time.Duration) error
}

// Sender delivers the events of a bus to endpoints. Its methods are safe
// for concurrent use.
type Sender struct {
	cfg       Config
	eps       []*endpoint
	unsub     func()
	ctx       context.Context // cancelled when Close's deadline passes
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	abandoned atomic.Uint64
	closeOnce sync.Once
}

type endpoint struct {
	Endpoint
	types     []string
	q         chan delivery
	delivered atomic.Uint64
	retried   atomic.Uint64
	failed    atomic.Uint64
	dropped   atomic.Uint64
	mu        sync.Mutex
	lastErr   string
	lastErrAt time.Time
}

// delivery is one event bound for one endpoint.
type delivery struct {
	id     string
	typ    string
	body   []byte
	queued time.Time
}

// Start checks cfg's endpoints, subscribes to b and starts one goroutine
// per endpoint. Close stops it.
func Start(b bus.Bus, cfg Config) (*Sender, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &Sender{cfg: cfg}
	names := map[string]bool{}
	for i, e := range cfg.Endpoints {
		ep, err := newEndpoint(e, cfg.QueueSize)
		if err != nil {
			return nil, fmt.Errorf("webhook: endpoint %d: %w", i+1, err)
		}
		if names[ep.Name] {
			return nil, fmt.Errorf("webhook: endpoint %d: another endpoint is named %q; give them names", i+1, ep.Name)
		}
		names[ep.Name] = true
		s.eps = append(s.eps, ep)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for _, ep := range s.eps {
		s.wg.Add(1)
		go s.run(ep)
	}
	s.unsub = b.Subscribe("webhook", cfg.QueueSize, s.enqueue)
	return s, nil
}

func (c *Config) defaults() error {
	if c.Client == nil {
		c.Client = &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	c.QueueSize = cmp.Or(c.QueueSize, 1000)
	c.MaxAttempts = cmp.Or(c.MaxAttempts, 10)
	c.MaxAge = cmp.Or(c.MaxAge, time.Hour)
	c.BaseBackoff = cmp.Or(c.BaseBackoff, time.Second)
	c.MaxBackoff = cmp.Or(c.MaxBackoff, 5*time.Minute)
	if c.QueueSize < 0 || c.MaxAttempts < 0 || c.MaxAge < 0 || c.BaseBackoff < 0 || c.MaxBackoff < c.BaseBackoff {
		return errors.New("webhook: QueueSize, MaxAttempts, MaxAge and BaseBackoff must not be negative, nor MaxBackoff under BaseBackoff")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleep
	}
	return nil
}

func newEndpoint(e Endpoint, queue int) (*endpoint, error) {
	u, err := url.Parse(e.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("url %q: want an absolute http or https URL", e.URL)
	}
	if e.Secret == "" {
		return nil, fmt.Errorf("%s: a secret is required", e.URL)
	}
	for _, t := range e.Types {
		if !slices.Contains(knownTypes, t) {
			return nil, fmt.Errorf("%s: unknown event type %q (known: %v)", e.URL, t, knownTypes)
		}
	}
	if e.Name == "" {
		e.Name = u.Host + u.EscapedPath()
	}
	ep := &endpoint{Endpoint: e, types: e.Types, q: make(chan delivery, queue)}
	if len(ep.types) == 0 {
		ep.types = DefaultTypes
	}
	return ep, nil
}

// enqueue hands e to the queue of every endpoint that wants it, without
// waiting: a full queue drops e and counts it.
func (s *Sender) enqueue(e bus.Event) {
	var body []byte
	for _, ep := range s.eps {
		if !slices.Contains(ep.types, e.Type) {
			continue
		}
		if body == nil {
			var err error
			if body, err = json.Marshal(e); err != nil {
				s.cfg.Logger.Error("webhook: encoding event", "type", e.Type, "id", e.ID, "err", err)
				return
			}
		}
		select {
		case ep.q <- delivery{id: e.ID, typ: e.Type, body: body, queued: s.cfg.Now()}:
		default:
			ep.dropped.Add(1)
		}
	}
}

// run delivers ep's events one after the other, in order, until its queue
// is closed and empty.
func (s *Sender) run(ep *endpoint) {
	defer s.wg.Done()
	for d := range ep.q {
		if s.ctx.Err() != nil {
			ep.dropped.Add(1)
			s.abandoned.Add(1)
			continue
		}
		s.deliver(ep, d)
	}
}

// deliver tries d until it is delivered, fails for good, runs out of
// attempts or age, or Close's deadline passes.
func (s *Sender) deliver(ep *endpoint, d delivery) {
	for attempt := 1; ; attempt++ {
		wait, err := s.post(ep, d)
		if err == nil {
			ep.delivered.Add(1)
			return
		}
		if s.ctx.Err() != nil {
			ep.dropped.Add(1)
			s.abandoned.Add(1)
			return
		}
		ep.setErr(err, s.cfg.Now())
		var perm permanentError
		giveUp := ""
		switch {
		case errors.As(err, &perm):
			giveUp = "not retryable"
		case attempt >= s.cfg.MaxAttempts:
			giveUp = "out of attempts"
		}
		if giveUp == "" {
			if wait < 0 {
				wait = s.backoff(attempt)
			}
			if s.cfg.Now().Add(wait).Sub(d.queued) > s.cfg.MaxAge {
				giveUp = "too old to retry"
			}
		}
		if giveUp != "" {
			ep.failed.Add(1)
			s.cfg.Logger.Warn("webhook: delivery failed", "endpoint", ep.Name, "id", d.id, "type", d.typ,
				"attempts", attempt, "why", giveUp, "err", err)
			return
		}
		if s.cfg.sleep(s.ctx, wait) != nil {
			ep.dropped.Add(1)
			s.abandoned.Add(1)
			return
		}
		ep.retried.Add(1)
	}
}

// permanentError is a failure that retrying will not change.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }

// post makes one attempt. It returns nil if the endpoint answered 2xx;
// otherwise the error and how long the endpoint asked to wait (Retry-After),
// or -1 if it did not say.
func (s *Sender) post(ep *endpoint, d delivery) (time.Duration, error) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, ep.URL, bytes.NewReader(d.body))
	if err != nil {
		return -1, permanentError{err}
	}
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set("ce-id", d.id)
	req.Header.Set("User-Agent", "skyfence-webhook")
	req.Header.Set(SignatureHeader, Sign(ep.Secret, d.body, s.cfg.Now()))
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return -1, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return 0, nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return retryAfter(resp.Header.Get("Retry-After"), s.cfg.Now()), fmt.Errorf("HTTP %d %s", code, http.StatusText(code))
	default:
		return -1, permanentError{fmt.Errorf("HTTP %d %s (not retried)", code, http.StatusText(code))}
	}
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date. It
// returns -1 if there is none or it does not parse.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return -1
	}
	if n, err := strconv.ParseInt(h, 10, 32); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}

// backoff is the wait after the attempt-th failure: BaseBackoff doubled
// attempt-1 times, at most MaxBackoff, of which a random half ("equal
// jitter"), so that endpoints coming back are not hit by every sender at
// once.
func (s *Sender) backoff(attempt int) time.Duration {
	d := s.cfg.MaxBackoff
	if attempt < 32 {
		d = min(s.cfg.BaseBackoff<<(attempt-1), s.cfg.MaxBackoff)
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (ep *endpoint) setErr(err error, at time.Time) {
	ep.mu.Lock()
	ep.lastErr, ep.lastErrAt = err.Error(), at
	ep.mu.Unlock()
}

// Close stops taking events and delivers what is queued, retries included,
// until ctx ends. Then it cancels what is in flight, counts what was not
// delivered as dropped and returns an error saying how many. Close is safe
// to call more than once.
func (s *Sender) Close(ctx context.Context) error {
	var err error
	s.closeOnce.Do(func() {
		s.unsub() // waits for the last enqueue: no send on a closed queue
		for _, ep := range s.eps {
			close(ep.q)
		}
		done := make(chan struct{})
		go func() { s.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			s.cancel()
			<-done
		}
		s.cancel()
		if n := s.abandoned.Load(); n > 0 {
			err = fmt.Errorf("webhook: %d events not delivered before the deadline", n)
		}
	})
	return err
}

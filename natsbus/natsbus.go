// Package natsbus is a bus.Bus over NATS JetStream: the event stream of a
// skyfence cluster. Every event goes into one stream, SKYFENCE_EVENTS for
// the namespace "skyfence" (the default), on the subject
// <namespace>.events.<type>, the type without its "io.skyfence." prefix
// (skyfence.events.terminal.changed), with the event's id as the JetStream
// message id, so a republished event within the stream's duplicate window
// is stored once. Clusters sharing a NATS server use namespaces of their
// own.
//
// Publish never blocks: events go into a bounded in-memory queue, and one
// goroutine sends them to JetStream in order, in batches, waiting for the
// server's acknowledgements. When NATS cannot be reached (or does not
// acknowledge), events are appended to a spool file on local disk, bounded
// in bytes, and replayed from it in order once NATS is back, before any
// newer event. An event that fits neither the queue nor the spool is
// dropped and counted (Stats.Overflow), never silently.
//
// Subscribe reads the stream from the moment of the call with an ordered,
// ephemeral consumer of its own, which survives reconnections; each
// subscriber sees every event of the cluster, its own process's included.
//
// natsbus owns skyfence's use of NATS: the event stream, and the fixes and
// detection observations a cluster passes (and the observations' wire
// form). It imports the domain, bus, detect, fixwire, internal/binwire and
// the authorizer (whose core decides the stream's fixes, FixDecider):
// never a store, the HTTP API (httpapi) or the service (control).
package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/skyfence/skyfence/bus"
)

// Config is what a Bus connects to and how much it keeps.
type Config struct {
	// URL is the NATS server's URL (nats://host:4222; several separated by
	// commas).
	URL string
	// Name names the connection, for the server's monitoring.
	Name string
	// Namespace names the cluster's stream and subjects (letters, digits,
	// '-' and '_'); "skyfence" if empty. The stream is created if missing
	// (file storage, Retention).
	Namespace string
	// Retention is how long the stream keeps events; 24 h if zero.
	Retention time.Duration
	// SpoolFile is the file events wait in while NATS is unreachable.
	// Required.
	SpoolFile string
	// SpoolBytes bounds the spool; 64 MiB if zero.
	SpoolBytes int64
	// Queue bounds the events waiting in memory for the sender; 16384 if
	// zero.
	Queue int
	// AckWait is how long a batch waits for the server's acknowledgements
	// before it is spooled; 2 s if zero.
	AckWait time.Duration
	// Retry is how often the spool is retried while NATS is away; 250 ms if
	// zero.
	Retry  time.Duration
	Logger *slog.Logger
}

// Stream returns the name of the namespace's stream.
func Stream(namespace string) string {
	return streamName(namespace, "EVENTS")
}

// Subject returns the subject events of type typ are published on in the
// namespace.
func Subject(namespace, typ string) string {
	return namespace + ".events." + strings.TrimPrefix(typ, "io.skyfence.")
}

// validNamespace reports whether ns can name a stream and a subject token.
func validNamespace(ns string) bool {
	for _, r := range ns {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return ns != ""
}

// batchSize is how many events the sender publishes before waiting for
// their acknowledgements.
const batchSize = 256

// Bus is a bus.Bus over NATS JetStream. Close it to send what is queued.
type Bus struct {
	cfg   Config
	log   *slog.Logger
	nc    *nats.Conn
	js    jetstream.JetStream
	spool *spool

	mu     sync.RWMutex // guards queue against Close
	queue  chan bus.Event
	closed bool
	done   chan struct{}

	streamOK bool // the stream is known to exist; sender only

	subsMu sync.Mutex
	subs   []*subscriber

	published, sent, spooled, replayed, overflow atomic.Uint64
	spoolBytes                                   atomic.Int64
}

var _ bus.Bus = (*Bus)(nil)

// Stats counts what a Bus did.
type Stats struct {
	Published  uint64 `json:"published"`   // handed to Publish
	Sent       uint64 `json:"sent"`        // acknowledged by JetStream straight away
	Spooled    uint64 `json:"spooled"`     // written to the spool
	Replayed   uint64 `json:"replayed"`    // sent from the spool, acknowledged
	Overflow   uint64 `json:"overflow"`    // dropped: the queue and the spool were full
	SpoolBytes int64  `json:"spool_bytes"` // waiting in the spool now
	Connected  bool   `json:"connected"`
	// Dropped counts, per subscriber name, events that did not fit its
	// buffer.
	Dropped map[string]uint64 `json:"dropped"`
}

// Open connects to NATS and starts the sender. NATS need not be up: the
// connection is retried for ever, and events are spooled meanwhile.
func Open(cfg Config) (*Bus, error) {
	if cfg.URL == "" || cfg.SpoolFile == "" {
		return nil, errors.New("natsbus: URL and SpoolFile are required")
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "skyfence"
	}
	if !validNamespace(cfg.Namespace) {
		return nil, fmt.Errorf("natsbus: namespace %q: use letters, digits, '-' and '_'", cfg.Namespace)
	}
	if cfg.Retention == 0 {
		cfg.Retention = 24 * time.Hour
	}
	if cfg.SpoolBytes == 0 {
		cfg.SpoolBytes = 64 << 20
	}
	if cfg.Queue == 0 {
		cfg.Queue = 16384
	}
	if cfg.AckWait == 0 {
		cfg.AckWait = 2 * time.Second
	}
	if cfg.Retry == 0 {
		cfg.Retry = 250 * time.Millisecond
	}
	b := &Bus{cfg: cfg, log: cfg.Logger, queue: make(chan bus.Event, cfg.Queue), done: make(chan struct{})}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if b.spool, err = openSpool(cfg.SpoolFile, cfg.SpoolBytes); err != nil {
		return nil, fmt.Errorf("natsbus: spool: %w", err)
	}
	b.spoolBytes.Store(b.spool.bytes())
	b.nc, err = nats.Connect(cfg.URL, nats.Name(cfg.Name),
		nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1), nats.ReconnectWait(cfg.Retry),
		// No client-side buffering while disconnected: a publish fails at
		// once, and the event goes to the spool, which is bounded and
		// survives a restart.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { b.log.Warn("natsbus: disconnected", "err", err) }),
		nats.ReconnectHandler(func(c *nats.Conn) { b.log.Info("natsbus: reconnected", "server", c.ConnectedUrl()) }))
	if err != nil {
		b.spool.close()
		return nil, fmt.Errorf("natsbus: %w", err)
	}
	if b.js, err = jetstream.New(b.nc); err != nil {
		b.nc.Close()
		b.spool.close()
		return nil, fmt.Errorf("natsbus: %w", err)
	}
	go b.run()
	return b, nil
}

// Publish implements bus.Bus: it queues e for the sender and returns.
func (b *Bus) Publish(e bus.Event) {
	b.published.Add(1)
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		b.overflow.Add(1)
		return
	}
	select {
	case b.queue <- e:
	default:
		b.overflow.Add(1)
	}
}

// Stats returns what the bus did so far.
func (b *Bus) Stats() Stats {
	st := Stats{
		Published: b.published.Load(), Sent: b.sent.Load(), Spooled: b.spooled.Load(),
		Replayed: b.replayed.Load(), Overflow: b.overflow.Load(), SpoolBytes: b.spoolBytes.Load(),
		Connected: b.nc.IsConnected(), Dropped: map[string]uint64{},
	}
	b.subsMu.Lock()
	for _, s := range b.subs {
		st.Dropped[s.name] += s.dropped.Load()
	}
	b.subsMu.Unlock()
	return st
}

// Close sends what is queued (to JetStream, or to the spool if NATS is
// away), stops every subscriber and closes the connection.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.queue)
	b.mu.Unlock()
	<-b.done
	b.subsMu.Lock()
	subs := b.subs
	b.subs = nil
	b.subsMu.Unlock()
	for _, s := range subs {
		s.stop()
	}
	b.nc.Close()
	return b.spool.close()
}

// run is the sender: it takes queued events in batches and sends them,
// spooling what NATS does not acknowledge, and retries the spool while it
// holds events.
func (b *Bus) run() {
	defer close(b.done)
	t := time.NewTicker(b.cfg.Retry)
	defer t.Stop()
	batch := make([]bus.Event, 0, batchSize)
	for {
		batch = batch[:0]
		select {
		case e, ok := <-b.queue:
			if !ok {
				return
			}
			batch = append(batch, e)
		fill:
			for len(batch) < batchSize {
				select {
				case e, ok := <-b.queue:
					if !ok {
						b.send(batch)
						return
					}
					batch = append(batch, e)
				default:
					break fill
				}
			}
		case <-t.C:
			if !b.spool.pending() {
				continue
			}
		}
		b.send(batch)
	}
}

// send replays the spool, then sends batch; whatever cannot be sent now
// is spooled behind what waits there, so that order is kept.
func (b *Bus) send(batch []bus.Event) {
	if b.spool.pending() && !b.replay() {
		b.toSpool(batch)
		return
	}
	n := b.publish(batch)
	b.sent.Add(uint64(n))
	b.toSpool(batch[n:])
}

// toSpool appends es to the spool, counting what does not fit.
func (b *Bus) toSpool(es []bus.Event) {
	if len(es) == 0 {
		return
	}
	n, err := b.spool.append(es)
	if err != nil {
		b.log.Error("natsbus: writing the spool", "err", err)
	}
	b.spooled.Add(uint64(n))
	if lost := len(es) - n; lost > 0 {
		if b.overflow.Add(uint64(lost)) == uint64(lost) {
			b.log.Error("natsbus: the spool is full; events are dropped (counted in overflow)", "bytes", b.cfg.SpoolBytes)
		}
	}
	b.spoolBytes.Store(b.spool.bytes())
}

// replay sends the spool's events in order, a batch at a time, and
// reports whether it is empty now.
func (b *Bus) replay() bool {
	for b.spool.pending() {
		es, off, lines, err := b.spool.next(batchSize)
		if err != nil {
			b.log.Error("natsbus: reading the spool", "err", err)
			return false
		}
		if lines > len(es) {
			b.log.Error("natsbus: undecodable events in the spool skipped", "lines", lines-len(es))
			b.overflow.Add(uint64(lines - len(es)))
		}
		if n := b.publish(es); n < len(es) {
			return false
		}
		if err := b.spool.advance(off); err != nil {
			b.log.Error("natsbus: emptying the spool", "err", err)
		}
		b.replayed.Add(uint64(len(es)))
		b.spoolBytes.Store(b.spool.bytes())
	}
	b.log.Info("natsbus: spool replayed")
	return true
}

// publish sends es to JetStream and returns how many of them, from the
// first, the server acknowledged.
func (b *Bus) publish(es []bus.Event) int {
	if len(es) == 0 || !b.nc.IsConnected() || !b.ensureStream() {
		return 0
	}
	futures := make([]jetstream.PubAckFuture, 0, len(es))
	for _, e := range es {
		data, err := json.Marshal(e)
		if err != nil {
			b.log.Error("natsbus: encoding an event", "type", e.Type, "err", err)
			data = nil
		}
		f, err := b.js.PublishMsgAsync(&nats.Msg{Subject: Subject(b.cfg.Namespace, e.Type), Data: data}, jetstream.WithMsgID(e.ID))
		if err != nil {
			break
		}
		futures = append(futures, f)
	}
	timeout := time.NewTimer(b.cfg.AckWait)
	defer timeout.Stop()
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			if errors.Is(err, jetstream.ErrNoStreamResponse) {
				b.streamOK = false // the server lost the stream: make it again
			}
			return i
		case <-timeout.C:
			return i
		}
	}
	return len(futures)
}

// ensureStream creates the stream if it is not known to exist.
func (b *Bus) ensureStream() bool {
	if b.streamOK {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.AckWait)
	defer cancel()
	_, err := b.js.CreateOrUpdateStream(ctx, b.streamConfig())
	if err != nil {
		b.log.Warn("natsbus: the event stream", "stream", Stream(b.cfg.Namespace), "err", err)
		return false
	}
	b.streamOK = true
	return true
}

func (b *Bus) streamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name: Stream(b.cfg.Namespace), Subjects: []string{b.cfg.Namespace + ".events.>"}, Storage: jetstream.FileStorage,
		MaxAge: b.cfg.Retention, Duplicates: 10 * time.Minute, Discard: jetstream.DiscardOld,
	}
}

// subscriber is one Subscribe: an ordered consumer feeding a bounded
// queue, drained by fn on a goroutine of its own.
type subscriber struct {
	name    string
	ch      chan bus.Event
	dropped atomic.Uint64
	cancel  context.CancelFunc
	fed     chan struct{} // closed when the consumer stopped feeding ch
	done    chan struct{} // closed after fn's last call
	once    sync.Once
}

// Subscribe implements bus.Bus: fn sees every event of the stream
// published from now on (the stream's clock), in stream order.
func (b *Bus) Subscribe(name string, buffer int, fn func(bus.Event)) func() {
	ctx, cancel := context.WithCancel(context.Background())
	s := &subscriber{name: name, ch: make(chan bus.Event, max(buffer, 1)), cancel: cancel,
		fed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for e := range s.ch {
			fn(e)
		}
	}()
	go b.consume(ctx, s, time.Now())
	b.subsMu.Lock()
	b.subs = append(b.subs, s)
	b.subsMu.Unlock()
	return func() {
		b.subsMu.Lock()
		for i, x := range b.subs {
			if x == s {
				b.subs = append(b.subs[:i:i], b.subs[i+1:]...)
				break
			}
		}
		b.subsMu.Unlock()
		s.stop()
	}
}

func (s *subscriber) stop() {
	s.once.Do(func() {
		s.cancel()
		<-s.fed
		close(s.ch)
		<-s.done
	})
}

// consume creates s's ordered consumer (retrying while NATS or the stream
// is away) and feeds s until ctx ends. The consumer itself recovers from
// reconnections, resuming after the last event it delivered.
func (b *Bus) consume(ctx context.Context, s *subscriber, from time.Time) {
	defer close(s.fed)
	var cc jetstream.ConsumeContext
	for cc == nil {
		c, err := b.js.OrderedConsumer(ctx, Stream(b.cfg.Namespace), jetstream.OrderedConsumerConfig{
			DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &from,
		})
		if err == nil {
			cc, err = c.Consume(func(m jetstream.Msg) {
				var e bus.Event
				if err := json.Unmarshal(m.Data(), &e); err != nil {
					b.log.Error("natsbus: an undecodable event", "subject", m.Subject(), "err", err)
					return
				}
				select {
				case s.ch <- e:
				default:
					s.dropped.Add(1)
				}
			})
		}
		if err != nil {
			if errors.Is(err, jetstream.ErrStreamNotFound) {
				ctx, cancel := context.WithTimeout(ctx, b.cfg.AckWait)
				_, _ = b.js.CreateOrUpdateStream(ctx, b.streamConfig())
				cancel()
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(b.cfg.Retry):
			}
		}
	}
	<-ctx.Done()
	cc.Drain()
	<-cc.Closed()
}

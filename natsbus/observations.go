package natsbus

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/skyfence/skyfence/detect"
)

// Observations go from authorizers to detector workers in a stream of
// their own, SKYFENCE_OBS for the namespace "skyfence", partitioned by
// terminal: subject <namespace>.obs.<n>, n = FNV-1a(terminal id) mod the
// number of partitions, so that one terminal's observations stay in one
// partition, in the order its authorizer published them. A message is a
// batch in detect's wire form (up to ObsConfig.Batch observations of one
// partition). The stream is a work queue: a message is deleted once the
// worker acknowledged it, and it is bounded in bytes, refusing new
// messages when full (the publisher counts them as dropped).
//
// Each partition has a durable pull consumer of its own, detect-<n>, with
// at most one message unacknowledged: a worker acknowledges a batch after
// the alerts it raised are stored, and a batch not acknowledged (the
// worker died) is delivered again, before any later batch of its
// partition, after the consumer's ack wait.

// ObsStream returns the name of the namespace's stream of observations.
func ObsStream(namespace string) string {
	return streamName(namespace, "OBS")
}

// ObsSubject returns the subject of partition p.
func ObsSubject(namespace string, p int) string {
	return namespace + ".obs." + strconv.Itoa(p)
}

// ObsConsumer returns the name of partition p's durable consumer.
func ObsConsumer(p int) string { return "detect-" + strconv.Itoa(p) }

// Partition returns the partition of terminal id among n.
func Partition(id string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % uint32(n))
}

// ObsConfig is the stream of observations both ends use.
type ObsConfig struct {
	URL, Name string
	// Namespace as in Config; "skyfence" if empty.
	Namespace string
	// Partitions of the stream; 16 if zero. Every authorizer and worker
	// of a cluster must use the same number.
	Partitions int
	// MaxBytes bounds the stream; 1 GiB if zero.
	MaxBytes int64
	// Batch is the most observations a message holds; 512 if zero.
	Batch int
	// AckWait is how long a publisher waits for the server's
	// acknowledgements, and a consumer for a worker's, before the batch
	// counts as lost (publisher) or is delivered again (consumer); 5 s if
	// zero.
	AckWait time.Duration
	Logger  *slog.Logger
}

func (c *ObsConfig) defaults() error {
	if err := partitionedDefaults(c.URL, &c.Namespace, &c.Partitions, &c.MaxBytes, &c.AckWait, &c.Logger); err != nil {
		return err
	}
	if c.Batch == 0 {
		c.Batch = 512
	}
	return nil
}

func (c *ObsConfig) streamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name: ObsStream(c.Namespace), Subjects: []string{c.Namespace + ".obs.*"}, Storage: jetstream.FileStorage,
		Retention: jetstream.WorkQueuePolicy, MaxBytes: c.MaxBytes, Discard: jetstream.DiscardNew, MaxAge: 24 * time.Hour,
	}
}

// ObsPublisher sends an authorizer's observations to the stream. One
// goroutine calls Publish (detect.Queue.Drain's).
type ObsPublisher struct {
	cfg      ObsConfig
	nc       *nats.Conn
	js       jetstream.JetStream
	streamOK bool
	enc      obsEncoder
	parts    [][]detect.Observation
	buf      []byte
	futures  []pending

	observations, messages, sent, dropped, bytes atomic.Uint64
}

type pending struct {
	f jetstream.PubAckFuture
	n int
}

// ObsStats counts what a publisher did, in observations but Messages and
// Bytes.
type ObsStats struct {
	Observations uint64 // handed to Publish
	Sent         uint64 // acknowledged by JetStream
	Dropped      uint64 // not: NATS away, the stream full, or no acknowledgement in time
	Messages     uint64 // messages acknowledged
	Bytes        uint64 // bytes of those messages
}

// OpenObsPublisher connects to NATS (retrying for ever in the background:
// while NATS is away, Publish drops and counts).
func OpenObsPublisher(cfg ObsConfig) (*ObsPublisher, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	p := &ObsPublisher{cfg: cfg, parts: make([][]detect.Observation, cfg.Partitions)}
	var err error
	if p.nc, p.js, err = connectJS(cfg.URL, cfg.Name); err != nil {
		return nil, err
	}
	return p, nil
}

// Publish sends obs, split by partition into messages of up to Batch
// observations, and waits for JetStream's acknowledgements (at most
// AckWait). What is not acknowledged is dropped and counted: detection is
// best effort, and never slows the decisions (the queue before it drops
// when Publish is slow).
func (p *ObsPublisher) Publish(obs []detect.Observation) {
	p.observations.Add(uint64(len(obs)))
	if !p.nc.IsConnected() || !p.ensureStream() {
		p.dropped.Add(uint64(len(obs)))
		return
	}
	for i := range obs {
		k := Partition(obs[i].Fix.TerminalID, p.cfg.Partitions)
		p.parts[k] = append(p.parts[k], obs[i])
	}
	p.futures = p.futures[:0]
	failed := 0
	for k, part := range p.parts {
		for i := 0; i < len(part); i += p.cfg.Batch {
			chunk := part[i:min(i+p.cfg.Batch, len(part))]
			p.buf = p.enc.appendBatch(p.buf[:0], chunk)
			// PublishMsgAsync keeps the slice until sent: give it its own.
			data := append([]byte(nil), p.buf...)
			f, err := p.js.PublishMsgAsync(&nats.Msg{Subject: ObsSubject(p.cfg.Namespace, k), Data: data})
			if err != nil {
				failed += len(chunk)
				continue
			}
			p.futures = append(p.futures, pending{f, len(chunk)})
		}
		clear(part)
		p.parts[k] = part[:0]
	}
	timeout := time.NewTimer(p.cfg.AckWait)
	defer timeout.Stop()
	for _, f := range p.futures {
		select {
		case <-f.f.Ok():
			p.sent.Add(uint64(f.n))
			p.messages.Add(1)
			p.bytes.Add(uint64(len(f.f.Msg().Data)))
		case err := <-f.f.Err():
			if errors.Is(err, jetstream.ErrNoStreamResponse) {
				p.streamOK = false
			}
			failed += f.n
		case <-timeout.C:
			failed += f.n
		}
	}
	if failed > 0 {
		if p.dropped.Add(uint64(failed)) == uint64(failed) {
			p.cfg.Logger.Warn("natsbus: observations not taken by the stream are dropped (counted)", "stream", ObsStream(p.cfg.Namespace))
		}
	}
}

func (p *ObsPublisher) ensureStream() bool {
	if p.streamOK {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.AckWait)
	defer cancel()
	if _, err := p.js.CreateOrUpdateStream(ctx, p.cfg.streamConfig()); err != nil {
		p.cfg.Logger.Warn("natsbus: the observation stream", "stream", ObsStream(p.cfg.Namespace), "err", err)
		return false
	}
	p.streamOK = true
	return true
}

// Stats returns what the publisher did so far.
func (p *ObsPublisher) Stats() ObsStats {
	return ObsStats{Observations: p.observations.Load(), Sent: p.sent.Load(), Dropped: p.dropped.Load(),
		Messages: p.messages.Load(), Bytes: p.bytes.Load()}
}

// Close closes the connection; call it after the last Publish.
func (p *ObsPublisher) Close() { p.nc.Close() }

// ObsReader reads partitions of the stream for a detector worker.
type ObsReader struct {
	cfg ObsConfig
	nc  *nats.Conn
	js  jetstream.JetStream

	batches, observations, redelivered, undecodable atomic.Uint64
}

// ObsReaderStats counts what a reader delivered.
type ObsReaderStats struct {
	Batches      uint64 // handled and acknowledged
	Observations uint64 // in those batches
	Redelivered  uint64 // batches delivered more than once (a worker died before acknowledging them)
	Undecodable  uint64 // batches dropped because they did not decode
}

// OpenObsReader connects to NATS.
func OpenObsReader(cfg ObsConfig) (*ObsReader, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	r := &ObsReader{cfg: cfg}
	var err error
	if r.nc, r.js, err = connectJS(cfg.URL, cfg.Name); err != nil {
		return nil, err
	}
	return r, nil
}

// Partitions returns the number of partitions of the stream.
func (r *ObsReader) Partitions() int { return r.cfg.Partitions }

// Read reads partition p with its durable consumer (made if missing)
// until ctx ends, calling handle with each batch in order, and
// acknowledging the batch when handle returns nil. When handle returns an
// error the batch is left unacknowledged and Read returns the error: the
// batch is delivered again, to whoever reads p next, after AckWait.
//
// A batch counts in Stats' Batches once the server confirmed its
// acknowledgement: a batch counted is never delivered again, and one whose
// acknowledgement was lost (the process died, NATS went away) is not
// counted, and is delivered again. The confirmation's round trip is spread
// over a batch of up to Batch observations (BenchmarkObservations reads
// as many a second with it as without, within the noise of a loaded
// machine).
func (r *ObsReader) Read(ctx context.Context, p int, handle func(obs []detect.Observation, redelivered bool) error) error {
	ensure := func(ctx context.Context) error {
		_, err := r.js.CreateOrUpdateStream(ctx, r.cfg.streamConfig())
		return err
	}
	c := partitionConsumer(ctx, r.js, ensure, ObsStream(r.cfg.Namespace), ObsConsumer(p), ObsSubject(r.cfg.Namespace, p), r.cfg.AckWait, r.cfg.Logger)
	if c == nil {
		return nil
	}
	var obs []detect.Observation
	for ctx.Err() == nil {
		m := nextMessage(ctx, c)
		if m == nil {
			continue
		}
		var err error
		obs, err = decodeObservations(obs[:0], m.Data())
		if err != nil {
			r.undecodable.Add(1)
			r.cfg.Logger.Error("natsbus: an undecodable batch of observations dropped", "subject", m.Subject(), "err", err)
			_ = m.Term()
			continue
		}
		redelivered := false
		if md, err := m.Metadata(); err == nil && md.NumDelivered > 1 {
			redelivered = true
			r.redelivered.Add(1)
		}
		if err := handle(obs, redelivered); err != nil {
			return err
		}
		if err := ack(ctx, m, r.cfg.AckWait); err != nil {
			r.cfg.Logger.Warn("natsbus: a batch of observations not acknowledged is delivered again", "partition", p, "err", err)
			continue
		}
		r.batches.Add(1)
		r.observations.Add(uint64(len(obs)))
	}
	return nil
}

// Stats returns what the reader delivered so far.
func (r *ObsReader) Stats() ObsReaderStats {
	return ObsReaderStats{Batches: r.batches.Load(), Observations: r.observations.Load(),
		Redelivered: r.redelivered.Load(), Undecodable: r.undecodable.Load()}
}

// Close closes the connection; call it after every Read returned.
func (r *ObsReader) Close() { r.nc.Close() }

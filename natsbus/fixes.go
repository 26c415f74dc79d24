package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/fixwire"
)

// Fixes can come from gateways over NATS instead of POST /v1/fixes, in a
// stream of their own, SKYFENCE_FIXES for the namespace "skyfence",
// partitioned by terminal as the observations are: subject
// <namespace>.fixes.<n>, n = Partition(terminal id, partitions), so that
// one terminal's fixes stay in one partition, in the order the gateways
// published them. A message is a batch of one partition's fixes in a body
// of POST /v1/fixes: JSON ({"batch_id": ..., "fixes": [...]}), or the
// binary form of package fixwire (FixConfig.Binary). The
// stream is a work queue (a batch is deleted once an authorizer
// acknowledged it), bounded in bytes and refusing new batches when full;
// a batch published with a batch id has the message id <batch id>.<n>, so
// a gateway that publishes a batch again (it got no acknowledgement) has
// it stored once within 10 minutes.
//
// Each partition has a durable pull consumer of its own, authorize-<n>,
// with at most one batch unacknowledged. The authorizer reading it decides
// the batch, publishes the answer (POST /v1/fixes's, in the batch's form) on
// <namespace>.decisions.<n>, in the stream SKYFENCE_DECISIONS (kept an
// hour, oldest dropped when full), with the message id <n>.<the batch's
// stream sequence>, and then acknowledges the batch. A batch not
// acknowledged (the authorizer died) is delivered again, before any later
// batch of its partition, after the consumer's ack wait: its fixes already
// applied are refused as not newer (conflict), none is applied twice, and
// if the first answer was published the second is dropped as its
// duplicate.

// FixStream returns the name of the namespace's stream of fixes.
func FixStream(namespace string) string {
	return streamName(namespace, "FIXES")
}

// FixSubject returns the subject of partition p's fixes.
func FixSubject(namespace string, p int) string {
	return namespace + ".fixes." + strconv.Itoa(p)
}

// FixConsumer returns the name of partition p's durable consumer.
func FixConsumer(p int) string { return "authorize-" + strconv.Itoa(p) }

// DecisionStream returns the name of the namespace's stream of decisions.
func DecisionStream(namespace string) string {
	return streamName(namespace, "DECISIONS")
}

// DecisionSubject returns the subject of partition p's decisions.
func DecisionSubject(namespace string, p int) string {
	return namespace + ".decisions." + strconv.Itoa(p)
}

// FixConfig is the streams of fixes and decisions both ends use.
type FixConfig struct {
	URL, Name string
	// Namespace as in Config; "skyfence" if empty.
	Namespace string
	// Partitions of the stream of fixes; 16 if zero. Every gateway and
	// authorizer of a cluster must use the same number.
	Partitions int
	// MaxBytes bounds each stream; 1 GiB if zero.
	MaxBytes int64
	// Retention is how long decisions are kept for gateways; 1 h if zero.
	Retention time.Duration
	// AckWait is how long a publisher waits for the server's
	// acknowledgements, and a consumer for an authorizer's before the
	// batch is delivered again; 5 s if zero.
	AckWait time.Duration
	// Binary makes a publisher send its batches in the binary form of POST
	// /v1/fixes (package fixwire) instead of JSON; their answers come back
	// in that form too. Authorizers take either form, batch by batch.
	Binary bool
	Logger *slog.Logger
}

// duplicateWindow is how long the streams of fixes and decisions
// recognise a message id they stored.
const duplicateWindow = 10 * time.Minute

func (c *FixConfig) defaults() error {
	if err := partitionedDefaults(c.URL, &c.Namespace, &c.Partitions, &c.MaxBytes, &c.AckWait, &c.Logger); err != nil {
		return err
	}
	if c.Retention == 0 {
		c.Retention = time.Hour
	}
	if c.Retention < duplicateWindow {
		return fmt.Errorf("natsbus: decisions kept %v: want at least %v", c.Retention, duplicateWindow)
	}
	return nil
}

// ensureStreams creates or updates both streams.
func (c *FixConfig) ensureStreams(ctx context.Context, js jetstream.JetStream) error {
	ctx, cancel := context.WithTimeout(ctx, c.AckWait)
	defer cancel()
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: FixStream(c.Namespace), Subjects: []string{c.Namespace + ".fixes.*"}, Storage: jetstream.FileStorage,
		Retention: jetstream.WorkQueuePolicy, MaxBytes: c.MaxBytes, Discard: jetstream.DiscardNew, MaxAge: 24 * time.Hour,
		Duplicates: duplicateWindow,
	}); err != nil {
		return err
	}
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: DecisionStream(c.Namespace), Subjects: []string{c.Namespace + ".decisions.*"}, Storage: jetstream.FileStorage,
		MaxBytes: c.MaxBytes, Discard: jetstream.DiscardOld, MaxAge: c.Retention, Duplicates: duplicateWindow,
	})
	return err
}

// FixPublisher is a gateway's end: it publishes batches of fixes and
// reads the decisions. It is safe for concurrent use.
type FixPublisher struct {
	cfg      FixConfig
	nc       *nats.Conn
	js       jetstream.JetStream
	streamOK atomic.Bool
}

// OpenFixPublisher connects to NATS (retrying in the background: while
// NATS is away, Publish fails).
func OpenFixPublisher(cfg FixConfig) (*FixPublisher, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	p := &FixPublisher{cfg: cfg}
	var err error
	if p.nc, p.js, err = connectJS(cfg.URL, cfg.Name); err != nil {
		return nil, err
	}
	return p, nil
}

// Partitions returns the number of partitions of the stream.
func (p *FixPublisher) Partitions() int { return p.cfg.Partitions }

// Publish sends a batch of fixes, split by partition into a message each,
// and waits for JetStream's acknowledgements (at most AckWait). It returns
// the partitions the batch went to, in order: one answer with batchID
// comes on each of their decision subjects. An error means that some part
// may not have been stored: publish the same batch again with the same
// id, and the parts stored already are not stored twice (within 10
// minutes; without an id they are, and their fixes are answered as
// conflicts). A batch holds at most 10,000 fixes, as over HTTP.
func (p *FixPublisher) Publish(ctx context.Context, batchID string, fixes []skyfence.Fix) ([]int, error) {
	if !p.streamOK.Load() {
		if err := p.cfg.ensureStreams(ctx, p.js); err != nil {
			return nil, fmt.Errorf("natsbus: the streams of fixes: %w", err)
		}
		p.streamOK.Store(true)
	}
	parts := make(map[int][]int)
	var order []int
	for i := range fixes {
		k := Partition(fixes[i].TerminalID, p.cfg.Partitions)
		if parts[k] == nil {
			order = append(order, k)
		}
		parts[k] = append(parts[k], i)
	}
	futures := make([]jetstream.PubAckFuture, 0, len(order))
	var enc fixwire.Encoder
	var wire []fixwire.Fix
	for _, k := range order {
		data := appendFixBatch(&enc, &wire, p.cfg.Binary, batchID, fixes, parts[k])
		var opts []jetstream.PublishOpt
		if batchID != "" {
			opts = append(opts, jetstream.WithMsgID(batchID+"."+strconv.Itoa(k)))
		}
		f, err := p.js.PublishMsgAsync(&nats.Msg{Subject: FixSubject(p.cfg.Namespace, k), Data: data}, opts...)
		if err != nil {
			return order, fmt.Errorf("natsbus: publishing fixes: %w", err)
		}
		futures = append(futures, f)
	}
	timeout := time.NewTimer(p.cfg.AckWait)
	defer timeout.Stop()
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			if errors.Is(err, jetstream.ErrNoStreamResponse) {
				p.streamOK.Store(false)
			}
			return order, fmt.Errorf("natsbus: publishing fixes: %w", err)
		case <-timeout.C:
			return order, errors.New("natsbus: publishing fixes: no acknowledgement in time")
		case <-ctx.Done():
			return order, ctx.Err()
		}
	}
	return order, nil
}

// appendFixBatch returns fixes[idx...] as the body of POST /v1/fixes, in
// the binary form or JSON, made in wire (kept for the next part).
func appendFixBatch(enc *fixwire.Encoder, wire *[]fixwire.Fix, binary bool, batchID string, fixes []skyfence.Fix, idx []int) []byte {
	w := (*wire)[:0]
	for _, i := range idx {
		w = append(w, fixwire.FromFix(&fixes[i]))
	}
	*wire = w
	if binary {
		return enc.AppendRequest(nil, batchID, w)
	}
	return fixwire.AppendJSONRequest(nil, batchID, w)
}

// Decisions calls fn with each answer published on the decision subjects
// of partitions from the call on, in each partition's order, until ctx
// ends. An answer is POST /v1/fixes's answer in its batch's form (JSON
// {"batch_id", "results"}, or fixwire's binary answer), or a JSON error
// body ({"error"}) for a batch refused whole; a gateway picks its own
// batches by their ids.
func (p *FixPublisher) Decisions(ctx context.Context, partitions []int, fn func(partition int, answer []byte)) error {
	from := time.Now()
	if err := p.cfg.ensureStreams(ctx, p.js); err != nil {
		return fmt.Errorf("natsbus: the streams of fixes: %w", err)
	}
	// One wildcard filter, the partitions picked here: a consumer with
	// several filter subjects needs nats-server 2.10, and Debian's is 2.9.
	want := make(map[int]bool, len(partitions))
	for _, k := range partitions {
		want[k] = true
	}
	c, err := p.js.OrderedConsumer(ctx, DecisionStream(p.cfg.Namespace), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{p.cfg.Namespace + ".decisions.*"}, DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &from,
	})
	if err != nil {
		return fmt.Errorf("natsbus: reading decisions: %w", err)
	}
	prefix := p.cfg.Namespace + ".decisions."
	cc, err := c.Consume(func(m jetstream.Msg) {
		k, err := strconv.Atoi(strings.TrimPrefix(m.Subject(), prefix))
		if err == nil && want[k] {
			fn(k, m.Data())
		}
	})
	if err != nil {
		return fmt.Errorf("natsbus: reading decisions: %w", err)
	}
	<-ctx.Done()
	cc.Drain()
	<-cc.Closed()
	return nil
}

// Close closes the connection.
func (p *FixPublisher) Close() { p.nc.Close() }

// FixReader is an authorizer's end: it reads partitions of the stream of
// fixes and publishes their decisions.
type FixReader struct {
	cfg FixConfig
	nc  *nats.Conn
	js  jetstream.JetStream

	batches, redelivered, publishFailures atomic.Uint64
}

// FixReaderStats counts what a reader did.
type FixReaderStats struct {
	Batches         uint64 // decided, answered and acknowledged
	Redelivered     uint64 // batches delivered more than once
	PublishFailures uint64 // failed publications of an answer (retried; the batch waits)
}

// OpenFixReader connects to NATS.
func OpenFixReader(cfg FixConfig) (*FixReader, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	r := &FixReader{cfg: cfg}
	var err error
	if r.nc, r.js, err = connectJS(cfg.URL, cfg.Name); err != nil {
		return nil, err
	}
	return r, nil
}

// Partitions returns the number of partitions of the stream.
func (r *FixReader) Partitions() int { return r.cfg.Partitions }

// Read reads partition p with its durable consumer (made if missing)
// until ctx ends: for each batch in order it calls decide with the
// message's body, publishes the answer decide returns on the partition's
// decision subject, and then acknowledges the batch. While the answer
// cannot be published Read retries, holding the batch; if ctx ends first
// the batch is left unacknowledged, to be delivered again after AckWait.
// Unlike ObsReader.Read it does not wait for the server to confirm the
// acknowledgement: on this hot path the round trip cost a third of the
// fixes an authorizer takes (BenchmarkFixesOverNATS, JSON), and a batch
// whose acknowledgement is lost comes again and applies nothing twice. So
// Stats' Batches counts acknowledgements sent.
func (r *FixReader) Read(ctx context.Context, p int, decide func(batch []byte, redelivered bool) []byte) error {
	ensure := func(ctx context.Context) error { return r.cfg.ensureStreams(ctx, r.js) }
	c := partitionConsumer(ctx, r.js, ensure, FixStream(r.cfg.Namespace), FixConsumer(p), FixSubject(r.cfg.Namespace, p), r.cfg.AckWait, r.cfg.Logger)
	if c == nil {
		return nil
	}
	var answer []byte
	for ctx.Err() == nil {
		m := nextMessage(ctx, c)
		if m == nil {
			continue
		}
		md, err := m.Metadata()
		if err != nil {
			r.cfg.Logger.Error("natsbus: a batch of fixes without metadata left to be delivered again", "subject", m.Subject(), "err", err)
			continue
		}
		if md.NumDelivered > 1 {
			r.redelivered.Add(1)
		}
		answer = decide(m.Data(), md.NumDelivered > 1)
		out := &nats.Msg{Subject: DecisionSubject(r.cfg.Namespace, p), Data: answer}
		id := jetstream.WithMsgID(strconv.Itoa(p) + "." + strconv.FormatUint(md.Sequence.Stream, 10))
		for {
			pctx, cancel := context.WithTimeout(ctx, r.cfg.AckWait)
			_, err := r.js.PublishMsg(pctx, out, id)
			cancel()
			if err == nil {
				break
			}
			r.publishFailures.Add(1)
			r.cfg.Logger.Warn("natsbus: publishing decisions; retrying", "partition", p, "err", err)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(250 * time.Millisecond):
			}
		}
		if err := m.Ack(); err != nil {
			r.cfg.Logger.Warn("natsbus: acknowledging a batch of fixes", "partition", p, "err", err)
		}
		r.batches.Add(1)
	}
	return nil
}

// Stats returns what the reader did so far.
func (r *FixReader) Stats() FixReaderStats {
	return FixReaderStats{Batches: r.batches.Load(), Redelivered: r.redelivered.Load(), PublishFailures: r.publishFailures.Load()}
}

// Close closes the connection; call it after every Read returned.
func (r *FixReader) Close() { r.nc.Close() }

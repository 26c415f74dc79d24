package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// What the partitioned streams (observations to detector workers, fixes
// from gateways) share: the namespace's stream names, the connection, the
// defaults of their configuration, and reading one partition with its own
// durable consumer.

// streamName returns the name of the namespace's stream (or bucket) of a
// kind, e.g. SKYFENCE_FIXES.
func streamName(namespace, kind string) string {
	return strings.ToUpper(strings.ReplaceAll(namespace, "-", "_")) + "_" + kind
}

// connectJS connects to NATS, retrying in the background for ever, with
// JetStream on the connection.
func connectJS(url, name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond), nats.ReconnectBufSize(-1))
	if err != nil {
		return nil, nil, fmt.Errorf("natsbus: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("natsbus: %w", err)
	}
	return nc, js, nil
}

// partitionedDefaults checks and fills the fields every partitioned
// stream's configuration has.
func partitionedDefaults(url string, namespace *string, partitions *int, maxBytes *int64, ackWait *time.Duration, logger **slog.Logger) error {
	if url == "" {
		return errors.New("natsbus: URL is required")
	}
	if *namespace == "" {
		*namespace = "skyfence"
	}
	if !validNamespace(*namespace) {
		return fmt.Errorf("natsbus: namespace %q: use letters, digits, '-' and '_'", *namespace)
	}
	if *partitions == 0 {
		*partitions = 16
	}
	if *partitions < 1 || *partitions > 1024 {
		return fmt.Errorf("natsbus: %d partitions: want 1 to 1024", *partitions)
	}
	if *maxBytes == 0 {
		*maxBytes = 1 << 30
	}
	if *ackWait == 0 {
		*ackWait = 5 * time.Second
	}
	if *logger == nil {
		*logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// partitionConsumer returns partition p's durable pull consumer on stream,
// with at most one message unacknowledged, making the stream (ensure) and
// the consumer if missing; it retries every second while NATS refuses, and
// returns nil when ctx ends first.
func partitionConsumer(ctx context.Context, js jetstream.JetStream, ensure func(context.Context) error, stream, durable, subject string,
	ackWait time.Duration, log *slog.Logger) jetstream.Consumer {
	for {
		sctx, cancel := context.WithTimeout(ctx, ackWait)
		err := ensure(sctx)
		var c jetstream.Consumer
		if err == nil {
			c, err = js.CreateOrUpdateConsumer(sctx, stream, jetstream.ConsumerConfig{
				Durable: durable, FilterSubject: subject,
				AckPolicy: jetstream.AckExplicitPolicy, AckWait: ackWait, MaxAckPending: 1,
				DeliverPolicy: jetstream.DeliverAllPolicy,
			})
		}
		cancel()
		if err == nil {
			return c
		}
		log.Warn("natsbus: a partition's consumer", "consumer", durable, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// nextMessage waits up to a second for c's next message; it returns nil
// when there is none yet (after a pause if NATS failed), so that the
// caller checks its context between waits.
func nextMessage(ctx context.Context, c jetstream.Consumer) jetstream.Msg {
	m, err := c.Next(jetstream.FetchMaxWait(time.Second))
	if err == nil {
		return m
	}
	if !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
	return nil
}

// ack acknowledges m and waits (up to ackWait) for the server to confirm
// it. A plain Ack is only queued on the connection: a process that dies
// before it is flushed, or a connection that drops, loses it and the
// message is delivered again, so a batch could be counted as acknowledged
// and still come back. The wait is a round trip a message; it outlives
// ctx, so that a batch handled just before shutdown is not handled twice.
func ack(ctx context.Context, m jetstream.Msg, ackWait time.Duration) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackWait)
	defer cancel()
	return m.DoubleAck(actx)
}

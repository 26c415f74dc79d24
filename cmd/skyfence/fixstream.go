package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/httpapi"
	"github.com/skyfence/skyfence/natsbus"
)

// FixStreamConfig is which partitions of the cluster's stream of fixes
// (gateways publishing on NATS instead of POST /v1/fixes: docs/CLUSTER.md)
// an authorizer decides.
type FixStreamConfig struct {
	// Own lists the partitions this authorizer reads, as detect-worker's
	// --partitions; "" for none.
	Own string
	// Partitions of the stream, the same on every gateway and authorizer.
	Partitions int
}

func (c *FixStreamConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Own, "fix-partitions", envOr("SKYFENCE_FIX_PARTITIONS", ""), "`list` of the partitions of the NATS stream of fixes this authorizer decides (--mode cluster): all, or numbers and ranges (0-7,12); none if empty; every partition must be read by exactly one authorizer [SKYFENCE_FIX_PARTITIONS]")
	fs.IntVar(&c.Partitions, "fix-partition-count", 16, "partitions of the NATS stream of fixes: the same on every gateway and authorizer")
}

// fixStream decides the batches gateways publish on the partitions an
// authorizer owns, each with the principal of a gateway named after the
// node, and publishes their answers.
type fixStream struct {
	reader *natsbus.FixReader
	parts  []int
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startFixes, with --fix-partitions, starts reading the stream of fixes:
// call it once the service is loaded.
func (s *Server) startFixes(api *httpapi.Server) error {
	c := s.cfg.FixStream
	if c.Own == "" {
		return nil
	}
	if s.cluster == nil {
		return errors.New("--fix-partitions needs --mode cluster")
	}
	parts, err := parsePartitions(c.Own, c.Partitions)
	if err != nil {
		return fmt.Errorf("--fix-partitions: %w", err)
	}
	node := s.cluster.node
	r, err := natsbus.OpenFixReader(natsbus.FixConfig{URL: s.cfg.Cluster.NATSURL, Name: "skyfence fixes " + node,
		Namespace: s.cfg.Cluster.Namespace, Partitions: c.Partitions, Logger: s.log})
	if err != nil {
		return err
	}
	gateway := control.WithPrincipal(context.Background(),
		&control.Principal{KeyID: "nats:" + node, Person: node, Role: skyfence.RoleGateway})
	ctx, cancel := context.WithCancel(context.Background())
	f := &fixStream{reader: r, parts: parts, cancel: cancel}
	for _, p := range parts {
		f.wg.Go(func() {
			var b []byte
			decide := func(batch []byte, _ bool) []byte {
				b = api.DecideBatch(gateway, batch, b[:0])
				return b
			}
			if err := r.Read(ctx, p, decide); err != nil && ctx.Err() == nil {
				s.log.Error("serve: reading a partition of fixes stopped", "partition", p, "err", err)
			}
		})
	}
	s.fixes = f
	api.AddMetrics(f.writeMetrics)
	s.log.Info("serve: deciding fixes from NATS", "partitions", len(parts), "of", c.Partitions)
	return nil
}

// stopFixes stops reading: a batch being decided is finished, answered
// and acknowledged first, unless its answer cannot be published.
func (s *Server) stopFixes() {
	if s.fixes == nil {
		return
	}
	s.fixes.cancel()
	s.fixes.wg.Wait()
	s.fixes.reader.Close()
	s.fixes = nil
}

func (f *fixStream) writeMetrics(w io.Writer) {
	st := f.reader.Stats()
	fmt.Fprintf(w, "# HELP skyfence_cluster_fix_batches_total Batches of fixes from NATS decided, answered and acknowledged.\n# TYPE skyfence_cluster_fix_batches_total counter\nskyfence_cluster_fix_batches_total %d\n", st.Batches)
	fmt.Fprintf(w, "# HELP skyfence_cluster_fix_batches_redelivered_total Batches of fixes delivered more than once.\n# TYPE skyfence_cluster_fix_batches_redelivered_total counter\nskyfence_cluster_fix_batches_redelivered_total %d\n", st.Redelivered)
	fmt.Fprintf(w, "# HELP skyfence_cluster_decision_publish_failures_total Failed publications of a batch's answer (retried; the batch waits).\n# TYPE skyfence_cluster_decision_publish_failures_total counter\nskyfence_cluster_decision_publish_failures_total %d\n", st.PublishFailures)
}

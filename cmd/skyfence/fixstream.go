package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

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

// fixStream is the reading of the stream of fixes: a natsbus.FixDecider
// over the partitions an authorizer owns.
type fixStream struct {
	reader *natsbus.FixReader
	cancel context.CancelFunc
	done   chan struct{}
}

// startFixes, with --fix-partitions, starts reading the stream of fixes,
// each batch decided by the service with the principal of a gateway named
// after the node, its decisions counted in api's metrics: call it once
// the service is loaded.
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
	d := &natsbus.FixDecider{Core: s.svc.Authorizer(), May: control.MayIngest, Decided: api.CountDecisions}
	ctx, cancel := context.WithCancel(context.Background())
	f := &fixStream{reader: r, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		d.Serve(ctx, gateway, r, parts, s.log)
	}()
	s.fixes = f
	api.AddMetrics(r.WriteMetrics)
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
	<-s.fixes.done
	s.fixes.reader.Close()
	s.fixes = nil
}

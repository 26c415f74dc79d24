package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/bus"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/httpapi"
	"github.com/skyfence/skyfence/natsbus"
	"github.com/skyfence/skyfence/postgres"
)

// ClusterConfig is what serve --mode cluster adds (docs/CLUSTER.md).
type ClusterConfig struct {
	Mode      string
	NATSURL   string
	Namespace string
	Node      string
	SpoolMiB  int64
	// DetectMode is where detection runs: "local" (in each authorizer, on
	// the fixes it decides) or "worker" (the authorizer publishes its
	// observations to JetStream for detector workers: detect-worker).
	DetectMode string
	// Partitions of the observation stream, the same everywhere.
	Partitions int
}

// clusterFlags binds the cluster configuration to flags, with the
// environment as defaults.
func (c *ClusterConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Mode, "mode", envOr("SKYFENCE_MODE", "embedded"), "`mode`: embedded (one process) or cluster (any number of authorizers on one PostgreSQL and NATS JetStream: docs/CLUSTER.md) [SKYFENCE_MODE]")
	fs.StringVar(&c.NATSURL, "nats-url", envOr("SKYFENCE_NATS_URL", ""), "NATS `URL` for --mode cluster, e.g. nats://127.0.0.1:4222 [SKYFENCE_NATS_URL]")
	fs.StringVar(&c.Namespace, "nats-namespace", envOr("SKYFENCE_NATS_NAMESPACE", "skyfence"), "`name` of the cluster's event stream and subjects, for clusters sharing a NATS server [SKYFENCE_NATS_NAMESPACE]")
	fs.StringVar(&c.Node, "node", envOr("SKYFENCE_NODE", ""), "this authorizer's `name`, unique in the cluster and stable across its restarts (default: host name and listen port) [SKYFENCE_NODE]")
	fs.Int64Var(&c.SpoolMiB, "spool-mib", 64, "MiB of events an authorizer keeps on disk while NATS is unreachable")
	fs.StringVar(&c.DetectMode, "detect-mode", envOr("SKYFENCE_DETECT_MODE", "local"), "`where` detection runs in --mode cluster: local (in this authorizer, on the fixes it decides) or worker (the decided fixes go to NATS JetStream, partitioned by terminal, for skyfence detect-worker processes) [SKYFENCE_DETECT_MODE]")
	fs.IntVar(&c.Partitions, "obs-partitions", 16, "partitions of the observation stream (--detect-mode worker): the same on every authorizer and worker")
}

// forwardsDetection reports whether the authorizer sends its observations
// to detector workers instead of running detection itself.
func (c *ClusterConfig) forwardsDetection() bool {
	return c.Mode == "cluster" && c.DetectMode == "worker"
}

// clusterNode is what cluster mode adds to a server: the cluster's event
// stream, the subscription that applies other authorizers' events, and the
// candidacy for leading the scheduled work.
type clusterNode struct {
	bus    *natsbus.Bus
	obs    *natsbus.ObsPublisher // nil unless --detect-mode worker
	node   string
	source string
	log    *slog.Logger
	leader *postgres.Leader // set by startCluster
	// svc is set once the service is loaded; events that arrive before
	// wait in the subscription's buffer.
	svc     atomic.Pointer[control.Service]
	ready   chan struct{}
	unsub   func()
	stop    chan struct{}
	stopped chan struct{}
	// activated is signalled when this authorizer activates a policy: the
	// resync goroutine puts it into the cluster's policy bucket.
	activated chan struct{}
	unwatch   func() // stops watching the policy bucket; set by startCluster

	applied, failed atomic.Uint64
	// policyPut counts policies this authorizer put into the bucket,
	// policyFailed puts and adoptions that failed.
	policyPut, policyFailed atomic.Uint64
}

// applyBuffer bounds the events waiting to be applied (while the service
// loads, or the store is slow); more are dropped and counted by the bus.
const applyBuffer = 1 << 16

// resyncEvery is how often an authorizer checks the store's policy in
// force, in case it missed an event (its buffer overflowed, or the store
// was unreachable when the event came).
const resyncEvery = 10 * time.Second

// openCluster, for --mode cluster, checks the configuration, connects to
// NATS and subscribes to the event stream, before the service loads its
// state from the store: no change committed meanwhile is missed.
func (s *Server) openCluster(cfg ServeConfig) error {
	c := cfg.Cluster
	switch c.DetectMode {
	case "", "local":
	case "worker":
		if c.Mode != "cluster" {
			return errors.New("--detect-mode worker needs --mode cluster")
		}
	default:
		return fmt.Errorf("--detect-mode: unknown mode %q (want local or worker)", c.DetectMode)
	}
	switch c.Mode {
	case "", "embedded":
		return nil
	case "cluster":
	default:
		return fmt.Errorf("--mode: unknown mode %q (want embedded or cluster)", c.Mode)
	}
	switch {
	case cfg.Store != "postgres":
		return errors.New("--mode cluster needs --store postgres: the authorizers share their state there")
	case c.NATSURL == "":
		return errors.New("--mode cluster needs --nats-url or SKYFENCE_NATS_URL")
	case c.SpoolMiB <= 0:
		return errors.New("--spool-mib must be positive")
	}
	node := c.Node
	if node == "" {
		host, _ := os.Hostname()
		_, port, _ := net.SplitHostPort(cfg.Addr)
		node = host + "-" + port
	}
	node = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' {
			return r
		}
		return '_'
	}, node)
	b, err := natsbus.Open(natsbus.Config{
		URL: c.NATSURL, Name: "skyfence " + node, Namespace: c.Namespace,
		SpoolFile: filepath.Join(cfg.DataDir, "events-"+node+".spool"), SpoolBytes: c.SpoolMiB << 20, Logger: s.log,
	})
	if err != nil {
		return fmt.Errorf("--nats-url: %w", err)
	}
	if !b.Stats().Connected {
		// Not an error: an authorizer decides on through an outage of
		// NATS, and sends its events once it connects (docs/CLUSTER.md).
		s.log.Warn("serve: NATS is unreachable; serving on, the events of this authorizer wait in its spool, and it applies the others' once connected", "nats", c.NATSURL)
	}
	n := &clusterNode{bus: b, node: node, source: "/skyfence/" + node, log: s.log, ready: make(chan struct{}),
		stop: make(chan struct{}), stopped: make(chan struct{})}
	n.unsub = b.Subscribe("cluster", applyBuffer, n.apply)
	s.cluster = n
	if cfg.Detect && c.forwardsDetection() {
		if n.obs, err = natsbus.OpenObsPublisher(natsbus.ObsConfig{URL: c.NATSURL, Name: "skyfence obs " + node,
			Namespace: c.Namespace, Partitions: c.Partitions, Logger: s.log}); err != nil {
			return fmt.Errorf("--detect-mode worker: %w", err)
		}
	}
	s.log.Info("serve: cluster mode", "node", node, "nats", c.NATSURL, "namespace", c.Namespace)
	return nil
}

// serviceBus returns the bus the service publishes on: in cluster mode,
// both the process's own (its console and webhooks see the events this
// authorizer publishes, once in the cluster) and the cluster's stream.
func (s *Server) serviceBus(local *bus.Local) bus.Bus {
	if s.cluster == nil {
		return local
	}
	return tee{local, s.cluster.bus}
}

// eventSource returns the CloudEvents source of the service's events: one
// per authorizer in cluster mode, "" (the default) otherwise.
func (s *Server) eventSource() string {
	if s.cluster == nil {
		return ""
	}
	return s.cluster.source
}

// startCluster hands the loaded service to the subscription, which
// applies the events waiting, stands for leader of the scheduled work, and
// adds the cluster's metrics.
func (s *Server) startCluster(api *httpapi.Server) {
	n := s.cluster
	if n == nil {
		return
	}
	n.leader = s.store.(*postgres.DB).Campaign(n.node)
	n.svc.Store(s.svc)
	close(n.ready)
	api.AddMetrics(n.writeMetrics)
	n.activated = make(chan struct{}, 1)
	unlocal := s.events.Subscribe("cluster policy", 16, func(e bus.Event) {
		if e.Type == bus.PolicyActivated {
			select {
			case n.activated <- struct{}{}:
			default: // a put is due already
			}
		}
	})
	n.syncPolicy(s.store)
	unwatch := n.bus.WatchPolicy(n.adoptPolicy)
	n.unwatch = func() { unlocal(); unwatch() }
	go n.resync(s.store)
}

// leads reports whether this process runs the scheduled work (Tick):
// always in the embedded mode, in a cluster only while
// it is the leader, holding the store's advisory lock (docs/CLUSTER.md).
func (s *Server) leads() bool {
	return s.cluster == nil || s.cluster.leader.Leading()
}

// apply applies one event of the stream to the service (the service
// ignores its own).
func (n *clusterNode) apply(e bus.Event) {
	<-n.ready
	svc := n.svc.Load()
	if svc == nil {
		return // the server failed to start
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := svc.ApplyEvent(ctx, e); err != nil {
		n.failed.Add(1)
		n.log.Warn("serve: applying a cluster event", "type", e.Type, "subject", e.Subject, "from", e.Source, "err", err)
		return
	}
	n.applied.Add(1)
}

// resync adopts the store's policy in force every resyncEvery, and puts
// it into the cluster's policy bucket then and when this authorizer
// activated one.
func (n *clusterNode) resync(store skyfence.Store) {
	defer close(n.stopped)
	t := time.NewTicker(resyncEvery)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-n.activated:
			n.syncPolicy(store)
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := n.svc.Load().AdoptPolicy(ctx); err != nil {
				n.log.Warn("serve: checking the policy in force", "err", err)
			}
			cancel()
			n.syncPolicy(store)
		}
	}
}

// syncPolicy puts the store's active policy change into the cluster's
// policy bucket unless the bucket holds it: at once after this authorizer
// activated it, and at start and every resyncEvery on every authorizer, so
// that a put lost (NATS away, the process killed) is made good.
func (n *clusterNode) syncPolicy(store skyfence.Store) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	put, err := n.bus.SyncPolicy(ctx, func(ctx context.Context) (*natsbus.Policy, error) {
		active, _, err := store.FindChanges(ctx, skyfence.ChangeFilter{State: skyfence.ChangeActive})
		if err != nil || len(active) == 0 {
			return nil, err
		}
		c := active[0]
		return &natsbus.Policy{Change: c.ID, Version: c.Version, ActivatedAt: c.ActivatedAt, Files: c.Files}, nil
	})
	switch {
	case err != nil:
		n.policyFailed.Add(1)
		n.log.Warn("serve: putting the policy in force into the cluster's bucket", "err", err)
	case put:
		n.policyPut.Add(1)
	}
}

// adoptPolicy adopts a policy read from the cluster's policy bucket.
func (n *clusterNode) adoptPolicy(p natsbus.Policy) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second) // the store's check; without it the bucket is trusted
	defer cancel()
	if err := n.svc.Load().AdoptPolicyFiles(ctx, p.Version, p.Files); err != nil {
		n.policyFailed.Add(1)
		n.log.Warn("serve: adopting the policy of the cluster's bucket", "version", p.Version, "change", p.Change, "err", err)
	}
}

// closeCluster stops applying events, then sends (or spools) the events
// the service published. Call it after the service is closed, before the
// store.
func (s *Server) closeCluster() error {
	n := s.cluster
	if n == nil {
		return nil
	}
	select {
	case <-n.ready:
		if n.svc.Load() != nil {
			close(n.stop)
			<-n.stopped
		}
	default:
		close(n.ready) // the service never loaded: apply drops what waits
	}
	if n.unwatch != nil {
		n.unwatch()
	}
	n.unsub()
	if n.leader != nil {
		n.leader.Close()
	}
	if n.obs != nil {
		n.obs.Close() // detection stopped before: nothing publishes
	}
	return n.bus.Close()
}

func (n *clusterNode) writeMetrics(w io.Writer) {
	st := n.bus.Stats()
	connected, leader := 0, 0
	if st.Connected {
		connected = 1
	}
	if n.leader.Leading() {
		leader = 1
	}
	fmt.Fprintf(w, "# HELP skyfence_cluster_events_total Events of the cluster's stream, by what became of them.\n# TYPE skyfence_cluster_events_total counter\n")
	for _, m := range []struct {
		what string
		n    uint64
	}{{"published", st.Published}, {"sent", st.Sent}, {"spooled", st.Spooled}, {"replayed", st.Replayed},
		{"overflow", st.Overflow}, {"dropped", st.Dropped["cluster"]},
		{"applied", n.applied.Load()}, {"apply_failed", n.failed.Load()}} {
		fmt.Fprintf(w, "skyfence_cluster_events_total{what=%q} %d\n", m.what, m.n)
	}
	if n.obs != nil {
		ob := n.obs.Stats()
		fmt.Fprintf(w, "# HELP skyfence_cluster_observations_total Decided fixes sent to detector workers, by what became of them.\n# TYPE skyfence_cluster_observations_total counter\n")
		fmt.Fprintf(w, "skyfence_cluster_observations_total{what=\"sent\"} %d\nskyfence_cluster_observations_total{what=\"dropped\"} %d\n", ob.Sent, ob.Dropped)
		fmt.Fprintf(w, "# HELP skyfence_cluster_observation_bytes_total Bytes of the observation batches JetStream took.\n# TYPE skyfence_cluster_observation_bytes_total counter\nskyfence_cluster_observation_bytes_total %d\n", ob.Bytes)
	}
	fmt.Fprintf(w, "# HELP skyfence_cluster_policy_total Policies in force this authorizer put into the cluster's bucket (put), and puts and adoptions from it that failed (failed).\n# TYPE skyfence_cluster_policy_total counter\n")
	fmt.Fprintf(w, "skyfence_cluster_policy_total{what=\"put\"} %d\nskyfence_cluster_policy_total{what=\"failed\"} %d\n", n.policyPut.Load(), n.policyFailed.Load())
	fmt.Fprintf(w, "# HELP skyfence_cluster_spool_bytes Bytes of events waiting on disk for NATS.\n# TYPE skyfence_cluster_spool_bytes gauge\nskyfence_cluster_spool_bytes %d\n", st.SpoolBytes)
	fmt.Fprintf(w, "# HELP skyfence_cluster_nats_connected 1 if connected to NATS.\n# TYPE skyfence_cluster_nats_connected gauge\nskyfence_cluster_nats_connected %d\n", connected)
	fmt.Fprintf(w, "# HELP skyfence_cluster_leader 1 if this authorizer leads the scheduled work (activations, expiries, case actions).\n# TYPE skyfence_cluster_leader gauge\nskyfence_cluster_leader %d\n", leader)
}

// tee publishes on a process's own bus and on the cluster's; subscribers
// listen to the process's own.
type tee struct {
	local   *bus.Local
	cluster *natsbus.Bus
}

func (t tee) Publish(e bus.Event) {
	t.local.Publish(e)
	t.cluster.Publish(e)
}

func (t tee) Subscribe(name string, buffer int, fn func(bus.Event)) func() {
	return t.local.Subscribe(name, buffer, fn)
}

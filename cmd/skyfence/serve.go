package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/skyfence/skyfence"
	"github.com/skyfence/skyfence/audit"
	"github.com/skyfence/skyfence/bus"
	"github.com/skyfence/skyfence/console"
	"github.com/skyfence/skyfence/control"
	"github.com/skyfence/skyfence/detect"
	"github.com/skyfence/skyfence/examples"
	"github.com/skyfence/skyfence/httpapi"
	"github.com/skyfence/skyfence/policy"
	"github.com/skyfence/skyfence/webhook"
)

const serveUsage = `usage: skyfence serve [flags]

Runs the skyfence server. With no flags it is the embedded default: an
SQLite database under ./data, the example policy (built in), HTTP on
127.0.0.1:8080. On the first start it creates an admin API key and prints
it once, and records the starting policy as the first policy change; from
then on the policy in force is the store's, changed through reviewed policy
changes (--policy matters only on a first start).

With --mode cluster it is one authorizer of many: all share a PostgreSQL
store (--store postgres) and apply each other's registry and policy
changes from a NATS JetStream stream (--nats-url); see docs/CLUSTER.md.
With --detect-mode worker an authorizer runs no detection: it publishes
the fixes it decided to JetStream, partitioned by terminal, and
'skyfence detect-worker' processes raise the alerts. With --fix-partitions
it also decides the batches of fixes gateways publish on NATS, for those
partitions of the stream of fixes, and publishes their answers.

Every flag can also be set by the environment variable in brackets; a flag
given on the command line wins.

flags:
`

// ServeConfig is the server's configuration: flags and environment
// variables, documented in one place (serveFlags).
type ServeConfig struct {
	StoreConfig
	Addr      string
	Policy    string
	LogLevel  string
	Drain     time.Duration
	Approvals int
	// AuditOrigin names the audit log in its checkpoints (their first
	// line, and the key's name): the same for every authorizer of a
	// cluster.
	AuditOrigin string
	Detect      bool
	// DetectConfig is a JSON file of detection thresholds over the
	// defaults; "" for the defaults.
	DetectConfig string
	Webhooks     string
	Cluster      ClusterConfig
	FixStream    FixStreamConfig
	// BatchCacheMiB bounds the answers to fix batches kept for retries
	// with the same batch_id (docs/API.md).
	BatchCacheMiB int
}

// DefaultServeConfig is the embedded default.
func DefaultServeConfig() ServeConfig {
	return ServeConfig{
		Addr:        "127.0.0.1:8080",
		LogLevel:    "info",
		Drain:       20 * time.Second,
		Approvals:   2,
		AuditOrigin: "skyfence/audit",
		Detect:      true,

		BatchCacheMiB: httpapi.DefaultBatchCacheBytes >> 20,
	}
}

// serveFlags binds the configuration to flags, with environment variables
// as defaults.
func serveFlags(fs *flag.FlagSet, c *ServeConfig) {
	fs.StringVar(&c.Addr, "addr", envOr("SKYFENCE_ADDR", c.Addr), "listen `address` [SKYFENCE_ADDR]")
	c.StoreConfig.flags(fs)
	fs.StringVar(&c.Policy, "policy", envOr("SKYFENCE_POLICY", c.Policy), "policy `file` to start with on a first start (default: the built-in example) [SKYFENCE_POLICY]")
	fs.StringVar(&c.LogLevel, "log-level", envOr("SKYFENCE_LOG_LEVEL", c.LogLevel), "`level`: debug, info, warn or error [SKYFENCE_LOG_LEVEL]")
	fs.DurationVar(&c.Drain, "drain", c.Drain, "how long shutdown waits for requests in flight")
	fs.IntVar(&c.Approvals, "approvals", c.Approvals, "approvals a policy change needs from persons other than its author")
	fs.StringVar(&c.AuditOrigin, "audit-origin", envOr("SKYFENCE_AUDIT_ORIGIN", c.AuditOrigin), "the audit log's `name` in its signed checkpoints [SKYFENCE_AUDIT_ORIGIN]")
	fs.BoolVar(&c.Detect, "detect", c.Detect, "run detection of unauthorized use alongside ingest")
	fs.StringVar(&c.DetectConfig, "detect-config", envOr("SKYFENCE_DETECT_CONFIG", c.DetectConfig), "detection thresholds: a JSON `file` over the defaults (docs/DETECTION.md) [SKYFENCE_DETECT_CONFIG]")
	fs.IntVar(&c.BatchCacheMiB, "batch-cache-mib", c.BatchCacheMiB, "MiB of answers to fix batches kept (up to 10 minutes) so that a gateway's retry with the same batch_id gets the same answer; 0 keeps none")
	c.Cluster.flags(fs)
	c.FixStream.flags(fs)
	fs.StringVar(&c.Webhooks, "webhooks", envOr("SKYFENCE_WEBHOOKS", c.Webhooks), "JSON or YAML `file` of the webhook endpoints to send alerts, case changes and cut-offs to [SKYFENCE_WEBHOOKS]")
}

func runServe(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg := DefaultServeConfig()
	serveFlags(fs, &cfg)
	fs.Usage = func() { fmt.Fprint(e.stderr, serveUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, e); err != nil {
		return err
	}
	m, err := OpenServer(ctx, cfg, e)
	if err != nil {
		if ctx.Err() != nil {
			// Whatever step the signal interrupted failed for it: not the
			// cause to report.
			return fmt.Errorf("%w during start-up (%v)", errStopped, context.Cause(ctx))
		}
		return err
	}
	return m.Run(ctx)
}

// Server is a running skyfence server and what it holds open.
type Server struct {
	cfg    ServeConfig
	log    *slog.Logger
	store  skyfence.Store
	svc    *control.Service
	http   *http.Server
	ln     net.Listener
	signer *audit.Signer
	detect *detect.Queue
	events *bus.Local // the service's events: the console's live feed listens
	out    env

	webhooks *webhook.Sender // nil without --webhooks
	cluster  *clusterNode    // nil unless --mode cluster
	fixes    *fixStream      // nil without --fix-partitions
	lock     *os.File        // the data directory's lock, with --store sqlite

	closeOnce sync.Once
	closeErr  error
}

// OpenServer builds the server from cfg: loads the world and the policy,
// takes the data directory, listens, opens the store and loads the
// registry. On error it has closed what it opened, and the error says
// which flag or step failed. A first start's admin key is created last,
// once nothing else can fail: a start that fails never creates a key it
// cannot print.
func OpenServer(ctx context.Context, cfg ServeConfig, e env) (_ *Server, err error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	s := &Server{cfg: cfg, log: log, out: e}
	defer func() {
		if err == nil {
			return
		}
		if cerr := s.close(); cerr != nil {
			err = fmt.Errorf("%w (and closing: %v)", err, cerr)
		}
	}()
	a, err := newAtlas()
	if err != nil {
		return nil, err
	}
	src, err := loadPolicy(cfg.Policy)
	if err != nil {
		return nil, fmt.Errorf("policy %s:\n%w", cmp.Or(cfg.Policy, "(built in)"), err)
	}
	snap, err := policy.Compile(src, a)
	if err != nil {
		return nil, fmt.Errorf("policy %s:\n%w", src.File, err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("--data %s: %w", cfg.DataDir, err)
	}
	if cfg.Store == "sqlite" {
		if s.lock, err = lockData(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	if s.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("--addr %s: %w", cfg.Addr, err)
	}
	if s.store, err = cfg.StoreConfig.open(ctx, log, false); err != nil {
		return nil, err
	}
	if s.signer, err = openSigner(cfg); err != nil {
		return nil, err
	}
	// Every transaction that appends to the audit log signs its tree
	// head before it commits, the key entry of a first start included.
	s.store.SetAuditSealer(&audit.Sealer{Signer: s.signer, Origin: cfg.AuditOrigin})
	log.Info("serve: registering the audit signing key", "key", s.signer.KeyID(), "origin", cfg.AuditOrigin)
	if err := audit.Register(ctx, s.store, s.signer); err != nil {
		return nil, fmt.Errorf("audit signing key %s: %w", s.signer.KeyID(), err)
	}
	switch {
	case cfg.Detect && cfg.Cluster.forwardsDetection():
		s.detect = detect.NewForwardQueue(detect.DefaultConfig().QueueSize, nil)
	case cfg.Detect:
		dc, err := detect.LoadConfig(cfg.DetectConfig)
		if err != nil {
			return nil, fmt.Errorf("--detect-config: %w", err)
		}
		engine, err := detect.New(dc, detect.Options{})
		if err != nil {
			return nil, err
		}
		s.detect = detect.NewQueue(engine)
	}
	s.events = bus.NewLocal()
	if err = s.openCluster(cfg); err != nil {
		return nil, err
	}
	if s.svc, err = control.New(ctx, control.Config{Store: s.store, Atlas: a, Policy: snap, Logger: log,
		Rules: skyfence.ChangeRules{Approvals: cfg.Approvals}, Detect: s.detect,
		Bus: s.serviceBus(s.events), Source: s.eventSource()}); err != nil {
		return nil, err
	}
	api := httpapi.New(s.svc, log, nil)
	api.KeepBatches(cfg.BatchCacheMiB<<20, httpapi.DefaultBatchCacheAge)
	console.Mount(api.Mount)
	s.startCluster(api)
	if err = s.startFixes(api); err != nil {
		return nil, err
	}
	if s.webhooks, err = startWebhooks(cfg.Webhooks, s.events, api.AddMetrics, log); err != nil {
		return nil, err
	}
	secrets, err := s.svc.Bootstrap(ctx)
	if err != nil {
		return nil, fmt.Errorf("creating the first admin keys: %w", err)
	}
	s.http = &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	s.http.RegisterOnShutdown(api.CloseStreams)
	base := "http://" + s.ln.Addr().String()
	fmt.Fprintf(e.stdout, "skyfence is serving on %s (policy %s, store %s)\n", base, s.svc.Authorizer().Snapshot().Version, cfg.Store)
	if len(secrets) > 0 {
		fmt.Fprintf(e.stdout, "\nAdmin API keys were created, one per admin (another admin approves a key that can change service). They are shown only now; keep them, and give the second to another person:\n\n")
		for i, secret := range secrets {
			name := "SKYFENCE_KEY" // the first, as the CLI reads it
			if i > 0 {
				name += strconv.Itoa(i + 1)
			}
			fmt.Fprintf(e.stdout, "  export %s=%s\n", name, secret)
		}
		fmt.Fprintln(e.stdout)
	}
	fmt.Fprintf(e.stdout, "Console: %s/console/   Public map: %s/map   Transparency report: %s/transparency   API: %s/openapi.json\n", base, base, base, base)
	return s, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Run serves until ctx ends, then shuts down gracefully: it stops taking
// requests, waits for those in flight (at most --drain), writes every
// terminal's last state and closes the store. It returns nil after a
// clean stop; an error if serving failed, requests were still in flight
// after --drain, or closing failed (everything is closed even then).
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	bg, stopBg := context.WithCancel(context.Background())
	defer stopBg()
	go s.tick(bg)
	detectDone := make(chan struct{})
	go func() {
		defer close(detectDone)
		if s.detect == nil {
			return
		}
		run := func() error { return s.detect.Run(bg, s.svc.RecordAlert) }
		if s.cluster != nil && s.cluster.obs != nil {
			run = func() error {
				return s.detect.Drain(bg, func(obs []detect.Observation) bool { s.cluster.obs.Publish(obs); return true })
			}
		}
		if err := run(); err != nil && bg.Err() == nil {
			s.log.Error("serve: detection stopped", "err", err)
		}
	}()
	var err error
	select {
	case err = <-errc:
		err = fmt.Errorf("serving on %s: %w", s.Addr(), err)
		s.log.Error("serve: shutting down", "err", err)
		s.http.Close()
	case <-ctx.Done():
		s.log.Info("serve: shutting down", "cause", context.Cause(ctx).Error())
		drain, cancel := context.WithTimeout(context.Background(), s.cfg.Drain)
		if serr := s.http.Shutdown(drain); errors.Is(serr, context.DeadlineExceeded) {
			err = fmt.Errorf("requests still in flight after --drain %v were cut off", s.cfg.Drain)
			s.http.Close()
		} else if serr != nil {
			err = fmt.Errorf("shutting down HTTP: %w", serr)
		}
		cancel()
	}
	s.stopFixes()  // fixes from NATS stop with those over HTTP
	s.stopDetect() // after the last request: Run drains what is queued, then returns
	<-detectDone
	stopBg()
	if cerr := s.close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("closing: %w", cerr))
	}
	if err != nil {
		return err
	}
	s.log.Info("serve: stopped")
	return nil
}

// stopDetect closes detection's queue, if it runs.
func (s *Server) stopDetect() {
	if s.detect != nil {
		s.detect.Close()
	}
}

// tick carries out scheduled activations and expiries, and case actions
// whose grace period ended, every few seconds, if this process leads.
func (s *Server) tick(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if !s.leads() {
				continue
			}
			if err := s.svc.Tick(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("serve: scheduled policy changes", "err", err)
			}
		}
	}
}

// loadPolicy reads the policy file, or the built-in example if file is "".
func loadPolicy(file string) (*policy.Source, error) {
	if file == "" {
		return policy.LoadWith(examples.PolicyFile, examples.ReadPolicyFile)
	}
	return policy.Load(file)
}

// openSigner loads the audit signing key from the data directory (made
// already), creating it on a first start.
func openSigner(cfg ServeConfig) (*audit.Signer, error) {
	path := filepath.Join(cfg.DataDir, audit.KeyFile)
	sg, err := audit.LoadOrCreateSigner(path)
	if err != nil {
		return nil, fmt.Errorf("audit signing key %s: %w", path, err)
	}
	return sg, nil
}

// close closes what the server opened, in order: the service (which
// writes the terminals' last states), the cluster's streams, the store,
// the listener and the data directory's lock. It may be called at any
// point of OpenServer, with any part never opened (nil), and more than
// once: the calls after the first return the first's result.
func (s *Server) close() error {
	s.closeOnce.Do(func() {
		s.stopFixes()    // if Run never ran
		s.stopWebhooks() // Run has stopped detection: no more alerts come
		var errs []error
		if s.svc != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := s.svc.Close(ctx); err != nil {
				errs = append(errs, fmt.Errorf("saving the terminals' last states: %w", err))
			}
			cancel()
		}
		if err := s.closeCluster(); err != nil {
			errs = append(errs, fmt.Errorf("cluster: %w", err))
		}
		if s.store != nil {
			if err := s.store.Close(); err != nil {
				errs = append(errs, fmt.Errorf("store: %w", err))
			}
		}
		if s.ln != nil {
			s.ln.Close() // closed already if Run served on it
		}
		if s.lock != nil {
			s.lock.Close() // after the store: the next server may open it
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
